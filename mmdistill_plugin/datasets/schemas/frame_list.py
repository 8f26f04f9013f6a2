# Copyright (c) mmdistill contributors.
"""Schema of the rawframe list files (pandera): ``<name> <total_frames> <label> ...`` per line,
MMAction2's rawframe format, read by
:class:`~mmdistill_plugin.datasets.MultimodalFrameListDataset` (the DMCL lists of NTU RGB+D /
NW-UCLA / UWA3DII, MML's SSv2 lists and the multi-label Charades lists).
"""
from typing import Optional

import pandera.pandas as pa

from .base import is_integer, register


def frame_list_schema(num_classes: Optional[int] = None,
                      multi_class: bool = False) -> pa.DataFrameSchema:
    """One row per line: ``name`` (str), ``total_frames`` (token), ``labels`` (list of tokens).

    Args:
        num_classes: labels must be below it (None: not checked; single-label lists).
        multi_class: zero or more labels per line; otherwise exactly one.
    """
    bound = f' in [0, {num_classes})' if num_classes is not None else ' >= 0'

    def labels_ok(v):
        if not multi_class and len(v) != 1:
            return False
        return all(is_integer(x) and int(x) >= 0 and (num_classes is None or int(x) < num_classes)
                   for x in v)
    count = 'zero or more labels' if multi_class else 'exactly one label'
    return pa.DataFrameSchema(
        {
            'name': pa.Column(None, description=(
                'the video folder (relative to `data_prefix[m]`)')),
            'total_frames': pa.Column(None, pa.Check(
                lambda v: is_integer(v) and int(v) >= 1, element_wise=True, ignore_na=False,
                error='is not a frame count >= 1'), description='frames in the folder'),
            'labels': pa.Column(None, pa.Check(
                labels_ok, element_wise=True, ignore_na=False,
                error=f'is not {count}, each an integer{bound}'),
                description='class indices (multi-label: several, or none = negative for all)'),
        },
        name='Rawframe list')


#: kept with a warning: MMAction2's own rawframe test lists repeat a folder on purpose (each line
#: is a sample), but a repeated line in a dataset list usually is a concatenation mistake
FRAME_LIST_WARNINGS = pa.DataFrameSchema(
    {'name': pa.Column(None, unique=True)},
    name='Rawframe list (warnings)')

register('Rawframe lists', frame_list_schema(num_classes=None, multi_class=True),
         reader='`MultimodalFrameListDataset`',
         files='`<name> <total_frames> <label> ...` lists (DMCL, MML, Charades lists)',
         warn=FRAME_LIST_WARNINGS)
