# Copyright (c) mmdistill contributors.
"""Schemas of the EPIC-KITCHENS-100 and EPIC-SOUNDS annotation tables (pandera).

* :func:`epic_actions_schema`: ``EPIC_100_{train,validation}.{csv,pkl}``, the UDA splits and
  ``EPIC_100_test_timestamps.csv`` (no labels), read by
  :func:`~mmdistill_plugin.datasets.epic_kitchens.read_epic_annotations`.
* :data:`EPIC_CLASSES`: ``EPIC_100_{verb,noun}_classes.csv``.
* :func:`epic_sounds_schema`: ``EPIC_Sounds_{train,validation}.csv`` and the recognition test
  timestamps, read by :func:`~mmdistill_plugin.datasets.epic_kitchens.read_epic_sounds`.

Every real file in ``shared/data`` validates (tests/test_schemas.py).
"""
import numpy as np
import pandas as pd
import pandera.pandas as pa

from .base import (is_int_list, is_integer, is_missing, is_name, is_str_list, is_timestamp,
                   literal_list, register, timestamp_seconds)


def _each(fn, error, description=None):
    return pa.Check(fn, element_wise=True, ignore_na=False, error=error,
                    description=description)


def _num(series, parse):
    """``parse`` of every value, NaN where it does not parse (rules on other fields report it)."""
    if parse is _int:  # vectorised: '61' / 61 -> 61.0, '6l' -> NaN (its own rule reports it)
        return pd.to_numeric(series.map(lambda v: np.nan if type(v) is bool else v),
                             errors='coerce').astype(float)

    def one(v):
        try:
            return float(parse(v))
        except (TypeError, ValueError):
            return np.nan
    return series.map(one).astype(float)


def _int(v):
    if not is_integer(v):
        raise ValueError(v)
    return int(str(v).strip()) if isinstance(v, str) else int(v)


def _ordered(first, second, strict=False):
    """``second >= first`` (``>`` with ``strict``) where both parse; other rows pass."""
    parse = timestamp_seconds if 'timestamp' in first else _int

    def check(df):
        a, b = _num(df[first], parse), _num(df[second], parse)
        ok = (b > a) if strict else (b >= a)
        return ok | a.isna() | b.isna()
    return check


def _prefix(outer, inner):
    """``df[inner]`` starts with ``df[outer] + '_'`` (EPIC ids nest: ``P01`` / ``P01_11`` /
    ``P01_11_0``)."""
    def check(df):
        return pd.Series([str(i).startswith(f'{o}_') for o, i in zip(df[outer], df[inner])],
                         index=df.index)
    return check


def _one_to_one(name, cls):
    """Rows whose ``name`` (e.g. ``verb``) has another ``cls`` on another row fail (only the
    rows disagreeing with the name's most common class). Passes when a column is absent."""
    def check(df):
        if name not in df or cls not in df:
            return pd.Series(True, index=df.index)
        key = df[cls].map(lambda v: str(v).strip())
        common = key.groupby(df[name].astype(str)).agg(lambda s: s.value_counts().index[0])
        return key == df[name].astype(str).map(common)
    return check


def _frames_match_timestamps(tolerance_s=0.1, tolerance_frames=2):
    """Frame numbers agree with the timestamps at the video's frame rate: the rate of a video is
    the median of ``frame / seconds`` over its rows (EPIC-100: 50 or 60), and every row's start
    and stop frame lie within ``tolerance_s`` seconds + ``tolerance_frames`` frames of
    ``seconds x rate``. Catches a row whose frames belong to another row or video."""
    def check(df):
        t0, t1 = (_num(df[c], timestamp_seconds) for c in ('start_timestamp', 'stop_timestamp'))
        f0, f1 = (_num(df[c], _int) for c in ('start_frame', 'stop_frame'))
        t = pd.concat([t0, t1]).to_numpy()
        f = pd.concat([f0, f1]).to_numpy()
        vid = pd.concat([df['video_id'], df['video_id']]).astype(str).to_numpy()
        with np.errstate(divide='ignore', invalid='ignore'):
            r = np.where(t > 0.5, f / t, np.nan)
        rate = pd.Series(r).groupby(vid).transform('median').to_numpy()
        dev = np.abs(f - t * rate)
        ok = ~(dev > tolerance_s * rate + tolerance_frames)  # NaN (unparsed, no rate) passes
        n = len(df)
        return pd.Series(ok[:n] & ok[n:], index=df.index)
    return check


def _first_noun(df):
    if 'all_noun_classes' not in df or 'noun_class' not in df:
        return pd.Series(True, index=df.index)

    def one(nc, allc):
        items = literal_list(allc)
        if not items or not is_integer(nc) or not all(is_integer(x) for x in items):
            return True  # empty or unparsed lists: other rules report them
        return _int(items[0]) == _int(nc)
    return pd.Series([one(a, b) for a, b in zip(df['noun_class'], df['all_noun_classes'])],
                     index=df.index)


def _same_length(df):
    if 'all_noun_classes' not in df or 'all_nouns' not in df:
        return pd.Series(True, index=df.index)

    def one(a, b):
        a, b = literal_list(a), literal_list(b)
        return a is None or b is None or len(a) == len(b)
    return pd.Series([one(a, b) for a, b in zip(df['all_nouns'], df['all_noun_classes'])],
                     index=df.index)


_ID = _each(is_name, 'is not an id (non-empty, no whitespace or "/")')
_TS = _each(is_timestamp, 'is not a timestamp HH:MM:SS.ff (non-negative)')
_FRAME = _each(lambda v: is_integer(v) and _int(v) >= 1,
               'is not an integer frame number >= 1 (frames are 1-based)')


def _class_check(n, what):
    return _each(lambda v: is_integer(v) and 0 <= _int(v) < n,
                 f'is not an integer class id in [0, {n}) ({n} {what} classes)')


def epic_actions_schema(num_verb_classes: int = 97, num_noun_classes: int = 300,
                        labelled: bool = False) -> pa.DataFrameSchema:
    """The EPIC-100 action-segment table.

    Args:
        num_verb_classes / num_noun_classes: the class counts labels must lie below.
        labelled: ``verb_class`` and ``noun_class`` are required (a training set).
    """
    return pa.DataFrameSchema(
        {
            'narration_id': pa.Column(None, _ID, unique=True, description=(
                'sample id, `<video_id>_<k>`; unique in the file')),
            'participant_id': pa.Column(None, _ID, description='`P01`; the first path level'),
            'video_id': pa.Column(None, _ID, description='`<participant_id>_<nn>`'),
            'narration_timestamp': pa.Column(
                None, _each(lambda v: is_missing(v) or v == '' or is_timestamp(v),
                            'is neither empty nor a timestamp HH:MM:SS.ff'),
                required=False, nullable=True, description='when the narration was spoken'),
            'start_timestamp': pa.Column(None, _TS, description='segment start'),
            'stop_timestamp': pa.Column(None, _TS, description='segment end'),
            'start_frame': pa.Column(None, _FRAME, description='first RGB frame (1-based)'),
            'stop_frame': pa.Column(None, _FRAME, description='last RGB frame (inclusive)'),
            'narration': pa.Column(None, required=False, nullable=True),
            'verb': pa.Column(None, _each(is_name, 'is not a verb name'), required=False),
            'verb_class': pa.Column(None, _class_check(num_verb_classes, 'verb'),
                                    required=labelled, description='verb label'),
            'noun': pa.Column(None, _each(lambda v: isinstance(v, str) and v != '',
                                          'is not a noun name'), required=False),
            'noun_class': pa.Column(None, _class_check(num_noun_classes, 'noun'),
                                    required=labelled, description='noun label'),
            'all_nouns': pa.Column(None, _each(is_str_list, 'is not a list of strings'),
                                   required=False),
            'all_noun_classes': pa.Column(None, _each(is_int_list, 'is not a list of integers'),
                                          required=False),
        },
        checks=[
            pa.Check(_ordered('start_frame', 'stop_frame'),
                     error='stop_frame {stop_frame} < start_frame {start_frame}'),
            pa.Check(_ordered('start_timestamp', 'stop_timestamp'),
                     error='stop_timestamp {stop_timestamp} < start_timestamp {start_timestamp}'),
            pa.Check(_prefix('participant_id', 'video_id'),
                     error='video_id {video_id} does not start with participant_id '
                           '{participant_id} + "_"'),
            pa.Check(_prefix('video_id', 'narration_id'),
                     error='narration_id {narration_id} does not start with video_id '
                           '{video_id} + "_"'),
            pa.Check(_frames_match_timestamps(),
                     error='start_frame {start_frame} / stop_frame {stop_frame} disagree with '
                           'start_timestamp {start_timestamp} / stop_timestamp {stop_timestamp} '
                           'at the frame rate of the other rows of video {video_id} (more than '
                           '0.1 s + 2 frames off)'),
            pa.Check(_one_to_one('verb', 'verb_class'),
                     error='verb {verb} has verb_class {verb_class} here and another on other '
                           'rows'),
            pa.Check(_one_to_one('noun', 'noun_class'),
                     error='noun {noun} has noun_class {noun_class} here and another on other '
                           'rows'),
            pa.Check(_first_noun, error='noun_class {noun_class} is not the first of '
                                        'all_noun_classes {all_noun_classes}'),
            pa.Check(_same_length, error='all_nouns {all_nouns} and all_noun_classes '
                                         '{all_noun_classes} differ in length'),
        ],
        name='EPIC-100 action segments')


def _contiguous(df):
    ids = _num(df['id'], _int)
    return ids.between(0, len(df) - 1)


EPIC_CLASSES = pa.DataFrameSchema(
    {
        'id': pa.Column(None, _each(is_integer, 'is not an integer class id'), unique=True,
                        description='class id; the ids are exactly 0..n-1'),
        'key': pa.Column(None, _each(lambda v: isinstance(v, str) and v.strip() != '',
                                     'is not a class name'), unique=True,
                         description='class name'),
        'instances': pa.Column(None, _each(is_str_list, 'is not a list of strings'),
                               required=False),
    },
    checks=[pa.Check(_contiguous, error='id {id} is outside 0..n-1 (n = the number of rows): '
                                        'class ids must be contiguous')],
    name='EPIC-100 class list')


def _samples_match_timestamps(sample_rate, tolerance):
    def check(df):
        ok = pd.Series(True, index=df.index)
        for s, t in (('start_sample', 'start_timestamp'), ('stop_sample', 'stop_timestamp')):
            dev = (_num(df[s], _int) - _num(df[t], timestamp_seconds) * sample_rate).abs()
            ok &= ~(dev > tolerance)
        return ok
    return check


def epic_sounds_schema(num_classes: int = 44, labelled: bool = False,
                       sample_rate: int = 24000) -> pa.DataFrameSchema:
    """The EPIC-SOUNDS audio-segment table (``start_sample`` / ``stop_sample`` at
    ``sample_rate``, 24 kHz in the release)."""
    return pa.DataFrameSchema(
        {
            'annotation_id': pa.Column(None, _ID, unique=True,
                                       description='sample id `<video_id>_<k>`; unique'),
            'participant_id': pa.Column(None, _ID),
            'video_id': pa.Column(None, _ID, description='the EPIC-KITCHENS-100 video'),
            'start_timestamp': pa.Column(None, _TS),
            'stop_timestamp': pa.Column(None, _TS),
            'start_sample': pa.Column(None, _each(lambda v: is_integer(v) and _int(v) >= 0,
                                                  'is not a sample index >= 0')),
            'stop_sample': pa.Column(None, _each(lambda v: is_integer(v) and _int(v) >= 0,
                                                 'is not a sample index >= 0')),
            'description': pa.Column(None, required=False, nullable=True),
            'class': pa.Column(None, _each(lambda v: isinstance(v, str) and v != '',
                                           'is not a class name'), required=labelled),
            'class_id': pa.Column(None, _class_check(num_classes, 'sound'),
                                  required=labelled),
        },
        checks=[
            pa.Check(_ordered('start_sample', 'stop_sample', strict=True),
                     error='stop_sample {stop_sample} <= start_sample {start_sample} (an empty '
                           'segment)'),
            pa.Check(_ordered('start_timestamp', 'stop_timestamp'),
                     error='stop_timestamp {stop_timestamp} < start_timestamp {start_timestamp}'),
            pa.Check(_prefix('participant_id', 'video_id'),
                     error='video_id {video_id} does not start with participant_id '
                           '{participant_id} + "_"'),
            pa.Check(_samples_match_timestamps(sample_rate, sample_rate // 1000),
                     error=f'start_sample {{start_sample}} / stop_sample {{stop_sample}} are not '
                           f'start_timestamp {{start_timestamp}} / stop_timestamp '
                           f'{{stop_timestamp}} x {sample_rate} Hz (more than 1 ms off)'),
            pa.Check(_one_to_one('class', 'class_id'),
                     error='class {class} has class_id {class_id} here and another on other '
                           'rows'),
            pa.Check(_one_to_one('class_id', 'class'),
                     error='class_id {class_id} has class {class} here and another on other '
                           'rows'),
        ],
        name='EPIC-SOUNDS audio segments')


register('EPIC-100 action segments', epic_actions_schema(labelled=True),
         reader='`read_epic_annotations` / `EpicKitchens100Dataset`',
         files='`EPIC_100_*.csv` / `.pkl` (test files without the label columns)')
register('EPIC-100 class lists', EPIC_CLASSES, reader='`read_class_names`',
         files='`EPIC_100_{verb,noun}_classes.csv`')
register('EPIC-SOUNDS audio segments', epic_sounds_schema(labelled=True),
         reader='`read_epic_sounds`',
         files='`EPIC_Sounds_*.csv` (test timestamps without `class` / `class_id`)')
