# Copyright (c) mmdistill contributors.
"""Schema of the Charades annotation CSV (``Charades_v1_{train,test}.csv``; pandera), read by
``tools/data/charades_to_list.py``.

Every real file in ``shared/data`` validates (tests/test_schemas.py); the 7 actions of
``Charades_v1_train.csv`` that end before they start are logged by the warning rule (the list
conversion uses the classes only).
"""
import re

import pandas as pd
import pandera.pandas as pa

from .base import is_name, is_real, register

NUM_CLASSES = 157
ACTION = re.compile(r'^c(\d{3}) (\S+) (\S+)$')


def parse_actions(actions: str):
    """``"c092 11.90 21.20;c147 0.00 12.60"`` -> ``[(92, 11.9, 21.2), (147, 0.0, 12.6)]``;
    ValueError naming the first entry that is not ``cNNN start end`` with ``NNN < 157`` and
    finite times >= 0."""
    out = []
    for entry in filter(None, (e.strip() for e in str(actions or '').split(';'))):
        m = ACTION.match(' '.join(entry.split()))
        if m is None or int(m.group(1)) >= NUM_CLASSES or not all(
                is_real(x) and float(x) >= 0 for x in m.groups()[1:]):
            raise ValueError(f'bad action {entry!r} (expected "cNNN start end", NNN < '
                             f'{NUM_CLASSES}, times >= 0)')
        out.append((int(m.group(1)), float(m.group(2)), float(m.group(3))))
    return out


def _actions_ok(v):
    try:
        parse_actions(v)
        return True
    except ValueError:
        return False


def _actions_ordered(df):
    def one(v):
        try:
            return all(t1 >= t0 for _, t0, t1 in parse_actions(v))
        except ValueError:
            return True
    return pd.Series([one(v) for v in df['actions']], index=df.index)


CHARADES = pa.DataFrameSchema(
    {
        'id': pa.Column(None, pa.Check(is_name, element_wise=True, ignore_na=False,
                                       error='is not a video id (non-empty, no whitespace or '
                                             '"/")'),
                        unique=True, description='video id (`46GP8`): frame folder `<id>/`'),
        'actions': pa.Column(None, pa.Check(_actions_ok, element_wise=True, ignore_na=False,
                                            error=f'is not a ";"-separated list of "cNNN start '
                                                  f'end" (NNN < {NUM_CLASSES}, times >= 0)'),
                             nullable=True, description=(
                                 'the labels: `c092 11.90 21.20;c147 0.00 12.60`; empty = no '
                                 'action')),
        'length': pa.Column(None, pa.Check(lambda v: is_real(v) and float(v) > 0,
                                           element_wise=True, ignore_na=False,
                                           error='is not a video length in seconds > 0'),
                            required=False, description='video length (s)'),
    },
    name='Charades videos')

#: damage the conversion tolerates (logged once per file)
CHARADES_WARNINGS = pa.DataFrameSchema(
    {'actions': pa.Column(None, nullable=True)},
    checks=[pa.Check(_actions_ordered,
                     error='an action of {actions} ends before it starts (times unused: kept)')],
    name='Charades videos (warnings)')

register('Charades videos', CHARADES, reader='`tools/data/charades_to_list.py`',
         files='`Charades_v1_{train,test}.csv`', warn=CHARADES_WARNINGS)
