"""Property-based fault tests (hypothesis): generated faults over annotation fields and media
arrays drive the readers and loaders, and every outcome must follow the rule of
docs/reliability.md — a correct sample, a named error (file, row/key, field), or a modality
marked missing with a log line — never anything else (a wrong value, a bare exception).

Derandomized (the same examples on every run) and sized for CI: about 30 s in all."""
import csv
import io
import json
import math
import os.path as osp
import re
import tempfile

import cv2
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mmengine.dataset import BaseDataset
from scipy.io import wavfile

from mmaction.registry import DATASETS, TRANSFORMS
from mmdistill_plugin.datasets.schemas import AnnotationError
from mmdistill_plugin.datasets.schemas.base import TIMESTAMP
from mmdistill_plugin.datasets.transforms import _utils as loader_utils

CI = settings(max_examples=30, deadline=None, derandomize=True, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture])
MEDIA = settings(CI, max_examples=20)


@pytest.fixture
def logged(monkeypatch):
    seen = []
    monkeypatch.setattr(loader_utils, '_WARNED', set())
    monkeypatch.setattr(loader_utils, 'print_log', lambda msg, **kw: seen.append(msg))
    return seen


# ---------------------------------------------------------------- annotation values
ODD = st.sampled_from(['', ' ', '-1', '-00:00:01.00', '00:61:00.00', '1e3', 'nan', 'inf',
                       '[1, 2]', "['a']", '0', '3.0', '150.5', '6l', 'P01', '[]', '[8, x]',
                       '00:00:01', '1:2:3', '12:00:00.00', '99999999999'])
ANY_VALUE = st.one_of(ODD, st.text(max_size=10),
                      st.integers(-10, 10 ** 6).map(str),
                      st.floats(allow_nan=True, allow_infinity=True).map(repr))

EPIC_COLS = ['narration_id', 'participant_id', 'video_id', 'narration_timestamp',
             'start_timestamp', 'stop_timestamp', 'start_frame', 'stop_frame', 'narration',
             'verb', 'verb_class', 'noun', 'noun_class', 'all_nouns', 'all_noun_classes']


def _epic_row(k):
    t0, t1 = 1.0 + 3 * k, 2.5 + 3 * k
    ts = lambda t: f'00:00:{t:05.2f}'  # noqa: E731
    return dict(narration_id=f'P01_01_{k}', participant_id='P01', video_id='P01_01',
                narration_timestamp=ts(t0), start_timestamp=ts(t0), stop_timestamp=ts(t1),
                start_frame=str(round(t0 * 60) + 1), stop_frame=str(round(t1 * 60)),
                narration='open door', verb='open', verb_class='3', noun='door',
                noun_class='8', all_nouns="['door']", all_noun_classes='[8]')


@st.composite
def epic_tables(draw):
    rows = [_epic_row(k) for k in range(draw(st.integers(1, 4)))]
    for _ in range(draw(st.integers(0, 3))):  # faults: any value in any field of any row
        row = draw(st.sampled_from(rows))
        row[draw(st.sampled_from(EPIC_COLS))] = draw(ANY_VALUE)
    if draw(st.booleans()) and len(rows) > 1:  # or a row copied / moved
        rows[draw(st.integers(1, len(rows) - 1))] = dict(rows[0])
    return rows


def _secs(text):
    h = 0.0
    for part in text.split(':'):
        h = h * 60 + float(part)
    return h


def _check_named(err, path):
    """A named error: the file first; schema failures name a row and a field."""
    msg = str(err)
    assert str(path) in msg, msg
    if isinstance(err, AnnotationError):
        assert err.failures and all(f['file'] == str(path) for f in err.failures)
        # a row / key (and a field, unless the rule is about the whole record), or, for a rule
        # over the whole file, a rule text that names them
        assert all(f['where'] or re.search(r"(video|entry|id) '?\w", f['rule'])
                   for f in err.failures), err.failures


@CI
@given(rows=epic_tables())
def test_epic_rows_give_correct_samples_or_named_errors(rows):
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'ann.csv')
        with open(path, 'w', newline='') as f:
            w = csv.DictWriter(f, EPIC_COLS)
            w.writeheader()
            w.writerows(rows)
        try:
            ds = DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=path))
        except ValueError as err:
            _check_named(err, path)
            return
        assert len(ds) == len(rows)
        assert len({r['narration_id'] for r in rows}) == len(rows)  # unique ids only
        for i, r in enumerate(rows):  # the correct sample: the row's values, sound
            info = ds.get_data_info(i)
            assert info['narration_id'] == r['narration_id']
            start, stop = int(r['start_frame']), int(r['stop_frame'])
            assert 1 <= start <= stop and info['total_frames'] == stop - start + 1
            for key in ('start_timestamp', 'stop_timestamp'):
                assert TIMESTAMP.fullmatch(r[key]) and info[key] == pytest.approx(_secs(r[key]))
            assert 0 <= info['start_timestamp'] <= info['stop_timestamp']
            assert info['label'] == dict(verb=int(r['verb_class']), noun=int(r['noun_class']))
            assert 0 <= info['label']['verb'] < 97 and 0 <= info['label']['noun'] < 300


@st.composite
def ssv2_files(draw):
    templates = ['Pushing [something]', 'Putting [something] onto [something]',
                 'Moving [something] up']
    labels = {t.replace('[', '').replace(']', ''): str(k) for k, t in enumerate(templates)}
    if draw(st.booleans()):
        key = draw(st.sampled_from(sorted(labels)))
        labels[key] = draw(st.one_of(ODD, st.integers(-3, 5).map(str), st.just(1)))
    entries = []
    for k in range(draw(st.integers(1, 4))):
        t = draw(st.sampled_from(templates))
        entries.append(dict(id=str(100 + k), template=t, placeholders=['x'] * t.count('[')))
    for _ in range(draw(st.integers(0, 2))):
        e = draw(st.sampled_from(entries))
        field = draw(st.sampled_from(['id', 'template', 'placeholders', 'label']))
        e[field] = draw(st.one_of(ANY_VALUE, st.none(), st.integers(-2, 3),
                                  st.lists(st.text(max_size=3), max_size=3)))
    return entries, labels


@CI
@given(files=ssv2_files())
def test_ssv2_entries_and_labels_give_correct_samples_or_named_errors(files):
    entries, labels = files
    with tempfile.TemporaryDirectory() as tmp:
        paths = {}
        for name, obj in (('ann', entries), ('labels', labels)):
            paths[name] = osp.join(tmp, f'{name}.json')
            with open(paths[name], 'w') as f:
                json.dump(obj, f)
        try:
            ds = DATASETS.build(dict(type='SomethingSomethingV2Dataset', ann_file=paths['ann'],
                                     labels_file=paths['labels'], modalities=('rgb', )))
        except ValueError as err:
            assert str(paths['ann']) in str(err) or str(paths['labels']) in str(err), err
            if isinstance(err, AnnotationError):
                assert all(f['file'] in paths.values() for f in err.failures)
            return
        n = ds.metainfo['num_classes']
        assert sorted(int(v) for v in labels.values()) == list(range(n))  # contiguous map
        infos = [BaseDataset.get_data_info(ds, i) for i in range(len(ds))]  # no video probe
        ids = [info['video_id'] for info in infos]
        assert len(set(ids)) == len(ids) == len(entries)
        for e, info in zip(entries, infos):
            assert re.fullmatch(r'[^\s/]+', info['video_id'])
            key = e['template'].replace('[', '').replace(']', '')
            assert info['label'] == int(labels[key]) and 0 <= info['label'] < n


COORD = st.one_of(st.floats(-50, 500), st.sampled_from([math.nan, math.inf, -math.inf, 0.0]))


@st.composite
def box_files(draw):
    frames = []
    for k in range(1, draw(st.integers(1, 4)) + 1):
        name = draw(st.one_of(st.just(f'7/{k:04d}.jpg'),
                              st.sampled_from(['7/0001.jpg', '8/0001.jpg', '7/x.jpg', '7'])))
        labels = [dict(gt_annotation=draw(st.sampled_from(['object 0', 'object 1',
                                                           'object hand', 'object 9', 'hand'])),
                       box2d=dict(x1=draw(COORD), y1=draw(COORD), x2=draw(COORD),
                                  y2=draw(COORD)))
                  for _ in range(draw(st.integers(0, 3)))]
        frames.append(dict(name=name, labels=labels, gt_placeholders=['a', 'b']))
    return {'7': frames}


@CI
@given(data=box_files(), max_boxes=st.integers(1, 4))
def test_box_annotations_give_valid_boxes_or_named_errors(data, max_boxes, logged):
    from mmdistill_plugin.datasets.something_something import load_box_annotations
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'annotations.json')
        with open(path, 'w') as f:
            f.write(json.dumps(data, allow_nan=True))
        try:
            boxes = load_box_annotations(path)['7']
        except ValueError as err:
            _check_named(err, path)
            return
    frames = boxes['frames']
    assert len(frames) == len(data['7'])  # every frame kept (names unique)
    for stored in frames.values():
        for slot, cat, *c in stored:
            assert cat in (1, 2) and np.isfinite(c).all() and c[2] > c[0] and c[3] > c[1]
    r = dict(video_id='7', total_frames=8, frame_inds=np.arange(1, 5),
             boxes_info=dict(boxes, video_id='7', frame_size=(240, 320)))
    out = TRANSFORMS.build(dict(type='LoadBoxes', max_boxes=max_boxes))(r)['boxes']
    assert np.isfinite(out).all() and (out[..., :4] >= 0).all() and (out[..., :4] <= 1).all()
    assert set(np.unique(out[..., 5])) <= {0.0, 1.0}
    n_boxes = sum(len(frames.get(i, ())) for i in range(1, 5))
    if int(out[..., 5].sum()) < n_boxes:  # boxes not in the input: each drop is logged
        assert any('dropped' in m for m in logged), logged


# ---------------------------------------------------------------- media arrays
@st.composite
def depth_clips(draw):
    n = draw(st.integers(1, 4))
    base = (draw(st.integers(4, 12)), draw(st.integers(4, 12)))
    frames = []
    for _ in range(n):
        h, w = draw(st.sampled_from([base, base, (base[0] + 1, base[1])]))
        dtype = draw(st.sampled_from([np.uint16, np.uint16, np.uint8]))
        ch = draw(st.sampled_from([1, 1, 3]))
        hi = np.iinfo(dtype).max
        img = np.asarray(draw(st.integers(0, hi)), dtype) + \
            np.arange(h * w, dtype=np.int64).reshape(h, w).astype(dtype)
        if ch == 3:
            img = np.stack([img, img, img if draw(st.booleans()) else hi - img], -1)
        frames.append(img)
    return frames


@MEDIA
@given(frames=depth_clips(), allow_missing=st.booleans())
def test_depth_clips_load_exactly_or_fail_naming_the_file(frames, allow_missing, logged):
    logged.clear()
    loader_utils._WARNED.clear()
    with tempfile.TemporaryDirectory() as tmp:
        for i, img in enumerate(frames, 1):
            cv2.imwrite(osp.join(tmp, f'{i:05d}.png'), img)
        r = dict(depth_dir=tmp, frame_inds=np.arange(1, len(frames) + 1),
                 total_frames=len(frames), video_id='v')
        t = TRANSFORMS.build(dict(type='LoadDepthFrames', allow_missing=allow_missing))
        try:
            out = t(r)
        except ValueError as err:
            assert not allow_missing and re.search(rf'{re.escape(tmp)}/\d{{5}}\.png', str(err))
            return
    if not out['modality_present']['depth']:  # marked missing: with its reason logged
        assert allow_missing and len(logged) == 1 and 'depth missing for sample' in logged[0]
        assert re.search(r'\d{5}\.png', logged[0]) and not out['depth'].any()
        return
    depth = out['depth'][..., 0]
    for img, got in zip(frames, depth):  # the correct sample: the files' values, bit depth
        assert got.dtype == frames[0].dtype
        np.testing.assert_array_equal(got, img if img.ndim == 2 else img[..., 0])


@st.composite
def waveforms(draw):
    n = draw(st.integers(0, 4000))
    x = np.sin(np.arange(n) * draw(st.floats(0.01, 1.0))).astype(np.float32)
    x *= draw(st.sampled_from([1.0, 1e-3, 0.0, 50.0]))
    for _ in range(draw(st.integers(0, 2))):
        if n:
            x[draw(st.integers(0, n - 1))] = draw(st.sampled_from([np.nan, np.inf, -np.inf,
                                                                   1e30]))
    layout = draw(st.sampled_from(['mono', 'stereo', 'inverted']))
    if layout == 'stereo':
        x = np.stack([x, x * 0.5], 1)
    elif layout == 'inverted':
        x = np.stack([x, -x], 1)
    start = draw(st.floats(0, 0.3))
    return x, start, start + draw(st.floats(0.0, 0.5))


@MEDIA
@given(wave=waveforms(), allow_missing=st.booleans())
def test_audio_gives_a_finite_spectrogram_or_a_named_fault(wave, allow_missing, logged):
    x, start, stop = wave
    logged.clear()
    loader_utils._WARNED.clear()
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'a.wav')
        wavfile.write(path, 8000, x)
        r = dict(audio_path=path, start_timestamp=start, stop_timestamp=stop,
                 narration_id='P01_01_1')
        t = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=16, n_mels=8,
                                  sample_rate=8000, allow_missing=allow_missing))
        try:
            out = t(r)
        except ValueError as err:
            assert not allow_missing and path in str(err), err
            return
    spec = out['audio']
    assert spec.shape == (16, 8) and spec.dtype == np.float32 and np.isfinite(spec).all()
    if not out['modality_present']['audio']:
        assert allow_missing and len(logged) == 1 and path in logged[0]
        assert "audio missing for sample narration_id='P01_01_1'" in logged[0]
    else:  # present: the segment's samples (no resampling at 8 kHz) are finite and their
        # channels do not cancel; faults outside the segment do not matter
        seg = x[int(round(start * 8000)):int(round(stop * 8000))]
        assert np.isfinite(seg).all()
        mono = seg if seg.ndim == 1 else seg.mean(1)
        assert seg.ndim == 1 or not np.abs(seg).any() or np.abs(mono).max() > 0


# ---------------------------------------------------------------- list files
LINE = st.lists(st.one_of(st.sampled_from(['v1', 'v2', 'a/b', '0', '1', '7', '12', '-1',
                                           'x', '3.5', '1e2']), st.integers(0, 20).map(str)),
                min_size=0, max_size=5).map(' '.join)


@CI
@given(lines=st.lists(LINE, min_size=1, max_size=5), multi=st.booleans())
def test_frame_lists_give_correct_samples_or_named_errors(lines, multi, logged):
    logged.clear()
    loader_utils._WARNED.clear()
    with tempfile.TemporaryDirectory() as tmp:
        path = osp.join(tmp, 'list.txt')
        with open(path, 'w') as f:
            f.write('\n'.join(lines) + '\n')
        try:
            ds = DATASETS.build(dict(type='MultimodalFrameListDataset', ann_file=path,
                                     modalities=('rgb', ), multi_class=multi, num_classes=8))
        except ValueError as err:
            assert path in str(err), err
            if isinstance(err, AnnotationError) and err.failures[0]['where'] != 'header':
                assert re.match(r"line \d+ \(name '", err.failures[0]['where'])
            return
    parsed = [ln.split() for ln in lines if ln.split()]
    assert len(ds) == len(parsed)
    if len({p[0] for p in parsed}) < len(parsed):  # a repeated name: kept, logged
        assert len(logged) == 1 and 'is not unique' in logged[0] and path in logged[0]
    for p, info in zip(parsed, (ds.get_data_info(i) for i in range(len(ds)))):
        assert info['video_id'] == p[0] and info['total_frames'] == int(p[1]) >= 1
        labels = [int(x) for x in p[2:]]
        assert all(0 <= lab < 8 for lab in labels)
        assert info['label'] == (sorted(set(labels)) if multi else labels[0])


def test_generated_faults_hit_every_outcome():
    """The strategies are not vacuous: over a fixed sample they give both accepted files and
    named errors (checked on the EPIC generator, the largest)."""
    outcomes = set()

    @settings(CI, max_examples=20)
    @given(rows=epic_tables())
    def run(rows):
        buf = io.StringIO()
        w = csv.DictWriter(buf, EPIC_COLS)
        w.writeheader()
        w.writerows(rows)
        with tempfile.TemporaryDirectory() as tmp:
            path = osp.join(tmp, 'ann.csv')
            with open(path, 'w') as f:
                f.write(buf.getvalue())
            try:
                DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=path))
                outcomes.add('accepted')
            except AnnotationError:
                outcomes.add('named')
    run()
    assert outcomes == {'accepted', 'named'}
