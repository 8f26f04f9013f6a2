"""tools/data/extract_detections.py: inputs, the Something-Else format, resume, and (with
MMDetection's compiled ops) ByteTrack and the detector end to end on real clips.

Tests that need MMCV's compiled ops (``mmcv._ext``) and MMDetection skip without them, and fail
under ``CI=true`` (``.ci/run`` installs them with ``tools/install_det.sh``).
"""
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest
from conftest import REPO, require_shared_data

spec = importlib.util.spec_from_file_location(
    'extract_detections', REPO / 'tools' / 'data' / 'extract_detections.py')
ed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(ed)

TOY_DET = REPO / 'tools' / 'data' / 'det_configs' / 'toy_retinanet_coco.py'


def require_mmdet_ops():
    """Skip without MMCV's compiled ops + MMDetection; fail under ``CI=true``."""
    try:
        ed.require_mmdet()
    except ImportError as err:
        if os.environ.get('CI', '').lower() == 'true':
            pytest.fail(f'CI=true but {err}', pytrace=False)
        pytest.skip(str(err))


@pytest.fixture
def se_videos():
    return require_shared_data() / 'something_else' / 'videos'


@pytest.fixture
def demo_mp4():
    return require_shared_data() / 'mmaction2' / 'main' / 'demo' / 'demo.mp4'


def _broken(tmp_path):
    p = tmp_path / 'broken.mp4'
    p.write_bytes(b'\x00not a video\xff' * 64)
    return p


# --------------------------------------------------------------------------- inputs
def test_collect_sources_ids_and_errors(tmp_path, se_videos, demo_mp4):
    assert ed.collect_sources([str(demo_mp4)]) == [('demo', str(demo_mp4))]
    clip = str(se_videos / '6981')
    assert ed.collect_sources([clip + '/']) == [('6981', clip)]
    ids = [v for v, _ in ed.collect_sources([str(se_videos)])]
    assert ids == ['2', '4', '862', '2003', '3201', '6981', '13201', '22983', '44862', '57082',
                   '77005', '80962', '151201']  # natural order
    (tmp_path / 'demo').mkdir()
    cv2.imwrite(str(tmp_path / 'demo' / '0001.jpg'), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ed.DetectionError, match=r"video id 'demo' twice: .*demo\.mp4 and "):
        ed.collect_sources([str(demo_mp4), str(tmp_path / 'demo')])
    with pytest.raises(ed.DetectionError, match='input not found: .*nothere'):
        ed.collect_sources([str(tmp_path / 'nothere')])
    (tmp_path / 'empty').mkdir()
    with pytest.raises(ed.DetectionError, match='empty: no video files'):
        ed.collect_sources([str(tmp_path / 'empty')])


def test_frame_numbers_from_names(tmp_path):
    d = tmp_path / 'v'
    d.mkdir()
    for name in ('img_00012.jpg', 'img_00002.jpg', 'img_00010.jpg', 'notes.txt'):
        (d / name).write_bytes(b'')
    assert ed.frame_numbers(str(d), 'v') == [(2, 'img_00002.jpg'), (10, 'img_00010.jpg'),
                                             (12, 'img_00012.jpg')]
    (d / 'cover.jpg').write_bytes(b'')
    with pytest.raises(ed.DetectionError, match=r'video v: frame .*cover\.jpg has no frame'):
        ed.frame_numbers(str(d), 'v')
    (d / 'cover.jpg').unlink()
    (d / 'x_2.png').write_bytes(b'')
    with pytest.raises(ed.DetectionError, match=r'img_00002\.jpg and .*x_2\.png both have '
                                                r'number 2'):
        ed.frame_numbers(str(d), 'v')


def test_iter_frames_folder_and_video(se_videos, demo_mp4):
    chunks = list(ed.iter_frames('6981', str(se_videos / '6981'), stride=2, chunk=5))
    nums = [n for c in chunks for n in c[0]]
    assert nums == list(range(1, 24, 2)) and {c[2] for c in chunks} == {12}
    assert [len(c[0]) for c in chunks] == [5, 5, 2]
    first = chunks[0][1][0]
    np.testing.assert_array_equal(first, cv2.imread(str(se_videos / '6981' / '0001.jpg')))
    nums, frames, total = next(ed.iter_frames('demo', str(demo_mp4), chunk=3))
    assert nums == [1, 2, 3] and total == 280 and frames[0].shape == (256, 340, 3)
    # decord gives RGB; the detector pipelines expect BGR (as cv2.imread)
    cap = cv2.VideoCapture(str(demo_mp4))
    ok, bgr = cap.read()
    cap.release()
    assert ok and np.abs(frames[0].astype(int) - bgr.astype(int)).mean() < 3


def test_unreadable_video_names_it(tmp_path):
    p = _broken(tmp_path)
    with pytest.raises(ed.DetectionError, match=r'video broken: cannot open .*broken\.mp4'):
        list(ed.iter_frames('broken', str(p)))


def test_different_frame_sizes_name_the_frame(tmp_path):
    d = tmp_path / 'v'
    d.mkdir()
    cv2.imwrite(str(d / '0001.jpg'), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(d / '0002.jpg'), np.zeros((8, 10, 3), np.uint8))
    with pytest.raises(ed.DetectionError, match=r'video v: frame 2 of .*0002\.jpg is 10x8, '
                                                r'the first was 8x8'):
        list(ed.iter_frames('v', str(d)))


# --------------------------------------------------------------------------- the format
CLASSES = ('person', 'cup', 'bottle', 'knife')


def _tracked():
    """Frames 1, 3, 5 (stride 2): track 7 cup on all (0.9), track 3 person on 1-3 (0.8),
    track 9 bottle on 5 (0.6), track 4 knife on 1 and 3 (0.5)."""
    return [(1, [(7, 1, 0.9, 10.0, 20.0, 110.0, 120.0), (3, 0, 0.8, 200.0, 50.0, 300.0, 230.0),
                 (4, 3, 0.5, 1.0, 2.0, 3.0, 4.0)]),
            (3, [(4, 3, 0.5, 1.5, 2.5, 3.5, 4.5), (7, 1, 0.9, 12.0, 20.0, 112.0, 120.0),
                 (3, 0, 0.8, 201.0, 51.0, 301.0, 231.0)]),
            (5, [(9, 2, 0.6, 50.123456, 60.0, 70.0, 80.0),
                 (7, 1, 0.9, 14.0, 20.0, 114.0, 120.0)])]


def test_select_tracks_by_summed_score():
    fr = _tracked()
    # sums: 7 -> 2.7, 3 -> 1.6, 4 -> 1.0, 9 -> 0.6
    assert ed.select_tracks(fr, {0}, max_objects=2, max_hands=2) == ([7, 4], [3])
    assert ed.select_tracks(fr, {0}, max_objects=5, max_hands=0) == ([7, 4, 9], [])
    assert ed.select_tracks(fr, set(), max_objects=5) == ([7, 3, 4, 9], [])
    assert ed.select_tracks(fr, {0}, max_objects=5, min_track_len=2) == ([7, 4], [3])


def test_something_else_layout_exact():
    out = ed.to_something_else('v1', _tracked(), CLASSES, hand_labels=(0, ), max_objects=2)
    assert [f['name'] for f in out] == ['v1/0001.jpg', 'v1/0003.jpg', 'v1/0005.jpg']
    assert all(f['gt_placeholders'] == ['cup', 'knife'] and f['nr_instances'] == 3
               for f in out)
    assert out[1]['labels'] == [
        dict(box2d=dict(x1=12.0, y1=20.0, x2=112.0, y2=120.0), category='cup',
             standard_category='0000', gt_annotation='object 0', track_id=7, score=0.9),
        dict(box2d=dict(x1=1.5, y1=2.5, x2=3.5, y2=4.5), category='knife',
             standard_category='0001', gt_annotation='object 1', track_id=4, score=0.5),
        dict(box2d=dict(x1=201.0, y1=51.0, x2=301.0, y2=231.0), category='person',
             standard_category='hand', gt_annotation='object hand', track_id=3, score=0.8)]
    # the bottle (track 9) ranks third: dropped with max_objects=2
    assert [lab['track_id'] for lab in out[2]['labels']] == [7]
    out = ed.to_something_else('v1', _tracked(), CLASSES, max_objects=4, max_hands=0)
    assert out[0]['gt_placeholders'] == ['cup', 'person', 'knife', 'bottle']
    assert out[2]['labels'][1]['box2d'] == dict(x1=50.12, y1=60.0, x2=70.0, y2=80.0)
    assert out[2]['labels'][1]['gt_annotation'] == 'object 3'


def test_round_trip_through_the_dataset_and_loadboxes(tmp_path, se_videos):
    """Boxes written for the real clip 6981 (427×240, 23 frames) come back from
    SomethingSomethingV2Dataset(boxes_file=...) + LoadBoxes in their slots, normalised."""
    frames = [(n, [(7, 1, 0.9, 10.0 + n, 20.0, 110.0 + n, 120.0)] +
               ([(3, 0, 0.8, 200.0, 50.0, 300.0, 230.0)] if n <= 10 else []) +
               ([(9, 2, 0.6, 400.0, 0.0, 427.0, 240.0)] if 5 <= n <= 8 else []))
              for n in range(1, 24)]
    se = ed.to_something_else('6981', frames, CLASSES, hand_labels=(0, ))
    ed.validate_frames('6981', se, 'mem')
    boxes = tmp_path / 'boxes.json'
    ed.write_json_atomic(str(boxes), {'6981': se})
    ann = tmp_path / 'train.json'
    ann.write_text(json.dumps([{'id': '6981', 'template': 'Moving [something] up',
                                'label': 'moving a cup up', 'placeholders': ['a cup']}]))
    labels = tmp_path / 'labels.json'
    labels.write_text(json.dumps({'Moving something up': '0'}))
    from mmaction.registry import DATASETS
    ds = DATASETS.build(dict(
        type='SomethingSomethingV2Dataset', ann_file=str(ann), labels_file=str(labels),
        boxes_file=str(boxes), rgb_source='frames', data_prefix=dict(rgb=str(se_videos)),
        modalities=('boxes', ), pipeline=[dict(type='LoadBoxes', max_boxes=4)]))
    info = ds.get_data_info(0)
    assert info['frame_size'] == (240, 427) and info['total_frames'] == 23
    info['frame_inds'] = np.array([1, 6, 12])
    got = ds.pipeline(dict(info))['boxes']
    w, h = 427.0, 240.0
    want = np.zeros((3, 4, 6), np.float32)
    want[0, 0] = (11 / w, 20 / h, 111 / w, 120 / h, 1, 1)
    want[0, 2] = (200 / w, 50 / h, 300 / w, 230 / h, 2, 1)    # hand after the 2 objects
    want[1, 0] = (16 / w, 20 / h, 116 / w, 120 / h, 1, 1)
    want[1, 1] = (400 / w, 0, 1, 1, 1, 1)                       # bottle = object 1
    want[1, 2] = want[0, 2]
    want[2, 0] = (22 / w, 20 / h, 122 / w, 120 / h, 1, 1)      # frame 12: no hand, no bottle
    np.testing.assert_allclose(got, want, atol=1e-6)


# --------------------------------------------------------------------------- files, resume
def test_stamp_names_changed_settings(tmp_path):
    ed.check_stamp(str(tmp_path), dict(a=1, score_thr=0.5), write=True)
    ed.check_stamp(str(tmp_path), dict(a=1, score_thr=0.5), write=False)
    with pytest.raises(ValueError, match=r"other settings \(score_thr: 0.5 -> 0.3\).*"
                                         r"--overwrite"):
        ed.check_stamp(str(tmp_path), dict(a=1, score_thr=0.3), write=True)


def test_torn_or_foreign_part_is_redone(tmp_path):
    (tmp_path / 'v.json').write_text('{"video_id": "v", "frames": [')
    assert ed.load_part(str(tmp_path), 'v') is None
    ed.write_json_atomic(str(tmp_path / 'v.json'), dict(video_id='w', frames=[]))
    assert ed.load_part(str(tmp_path), 'v') is None
    ed.write_json_atomic(str(tmp_path / 'v.json'), dict(video_id='v', frames=[{'x': 1}]))
    assert ed.load_part(str(tmp_path), 'v') == [{'x': 1}]
    assert sorted(os.listdir(tmp_path)) == ['v.json']  # no temporary file left


class _FakeDetector:
    """One box per frame, moving right by one pixel a frame; counts the frames it saw."""
    frames_seen = 0

    def __init__(self, config, checkpoint, device, cfg_options, seed):
        self.classes, self.config_text = CLASSES, f'fake {checkpoint}'

    def __call__(self, frames):
        out = []
        for f in frames:
            _FakeDetector.frames_seen += 1
            x = float(_FakeDetector.frames_seen % 50)
            out.append((np.array([[x, 5, x + 20, 25]], np.float32), np.array([0.9], np.float32),
                        np.array([1])))
        return out


class _FakeTracker:
    def __init__(self, score_thr, low_score_thr, **options):
        self.cfg = dict(score_thr=score_thr, **options)

    def reset(self):
        pass

    def __call__(self, k, bboxes, scores, labels):
        return bboxes, scores, labels, np.arange(len(bboxes))


def test_failed_video_is_named_others_kept_and_resumed(tmp_path, se_videos, monkeypatch,
                                                       capsys):
    monkeypatch.setattr(ed, 'MMDetDetector', _FakeDetector)
    monkeypatch.setattr(ed, 'ByteTrack', _FakeTracker)
    broken = _broken(tmp_path)
    out = tmp_path / 'boxes.json'
    argv = [str(se_videos / '6981'), str(broken), str(se_videos / '151201'), '--out', str(out),
            '--checkpoint', 'x.pth', '--batch-size', '4']
    _FakeDetector.frames_seen = 0
    assert ed.main(argv) == 1
    err = capsys.readouterr().err
    assert 'failed: video broken (' in err and 'broken.mp4' in err and 'not written' in err
    assert not out.exists() and _FakeDetector.frames_seen == 23 + 33
    parts = tmp_path / 'boxes_parts'
    assert sorted(os.listdir(parts)) == ['151201.json', '6981.json', 'run.json']
    # rerun: the finished videos are not detected again; --keep-going writes the others
    _FakeDetector.frames_seen = 0
    assert ed.main(argv + ['--keep-going']) == 0
    assert _FakeDetector.frames_seen == 0
    data = json.loads(out.read_text())
    assert list(data) == ['6981', '151201']
    assert [f['name'] for f in data['151201']] == [f'151201/{n:04d}.jpg' for n in range(1, 34)]
    # other settings refuse the work dir, naming the setting
    with pytest.raises(ValueError, match=r'frame_stride: 1 -> 2'):
        ed.main(argv + ['--frame-stride', '2'])
    assert ed.main([str(se_videos / '6981'), '--out', str(out), '--checkpoint', 'x.pth',
                    '--frame-stride', '2', '--overwrite']) == 0
    names = [f['name'] for f in json.loads(out.read_text())['6981']]
    assert names[:2] == ['6981/0001.jpg', '6981/0003.jpg']


def test_unknown_hand_class_is_refused(tmp_path, se_videos, monkeypatch):
    monkeypatch.setattr(ed, 'MMDetDetector', _FakeDetector)
    monkeypatch.setattr(ed, 'ByteTrack', _FakeTracker)
    with pytest.raises(ValueError, match=r"--hand-classes: \['hand'\] not among the "
                                         r"detector's 4 classes"):
        ed.main([str(se_videos / '6981'), '--out', str(tmp_path / 'b.json'),
                 '--checkpoint', 'x', '--hand-classes', 'hand'])


# --------------------------------------------------------------- with MMDetection's ops
def test_bytetrack_keeps_ids_over_frames():
    """Hand-made detections: a cup moving 3 px a frame and a static person keep their ids; a
    bottle appearing on frame 3 gets a new one; a knife where the cup was (another class) is
    never given the cup's id; a low-score cup box continues the cup's track."""
    require_mmdet_ops()
    tr = ed.ByteTrack(score_thr=0.5, low_score_thr=0.1)
    tr.reset()
    ids = []
    for k in range(6):
        bb = [[10 + 3 * k, 10, 60 + 3 * k, 60], [100, 20, 150, 120]]
        sc, lb = [0.9 if k != 4 else 0.3, 0.8], [1, 0]
        if k >= 3:
            bb.append([200, 200, 240, 260])
            sc.append(0.7)
            lb.append(2)
        if k == 5:
            bb.append([10 + 3 * k, 10, 60 + 3 * k, 60])
            sc.append(0.95)
            lb.append(3)
        b, s, lab, tid = tr(k, np.array(bb, np.float32), np.array(sc, np.float32),
                            np.array(lb))
        ids.append({int(label): int(t) for label, t in zip(lab, tid)})
        np.testing.assert_allclose(sorted(b[:, 0].tolist()), sorted(x[0] for x in bb))
    cup, person = ids[0][1], ids[0][0]
    assert cup != person
    assert all(f[1] == cup and f[0] == person for f in ids)   # frame 4: the 0.3 cup box too
    bottle = ids[3][2]
    assert bottle not in (cup, person) and ids[4][2] == ids[5][2] == bottle
    assert ids[5][3] not in (cup, person, bottle)
    tr.reset()
    b, s, lab, tid = tr(0, np.array([[0, 0, 5, 5]], np.float32), np.array([0.9], np.float32),
                        np.array([1]))
    assert tid.tolist() == [0]  # a new video starts counting again


def _toy_args(inputs, out, *extra):
    return [*map(str, inputs), '--out', str(out), '--det-config', str(TOY_DET),
            '--checkpoint', 'none', '--device', 'cpu', '--score-thr', '0.3',
            '--low-score-thr', '0.05', '--max-objects', '3', '--max-hands', '1',
            '--batch-size', '8', *extra]


def test_toy_detector_on_real_clips_then_kill_and_resume(tmp_path, se_videos, demo_mp4):
    """The random-weights toy RetinaNet over two Something-Else frame folders and the
    MMAction2 demo video: the file validates with the box reader, every frame is listed under
    its number, boxes lie in the frame, each track keeps one slot; a run killed (SIGKILL)
    after its first video resumes without redoing it and gives the same file."""
    require_mmdet_ops()
    from mmdistill_plugin.datasets.something_something import load_box_annotations
    inputs = [se_videos / '6981', se_videos / '151201', demo_mp4]
    full = tmp_path / 'full.json'
    assert ed.main(_toy_args(inputs, full)) == 0
    data = json.loads(full.read_text())
    assert list(data) == ['6981', '151201', 'demo']
    sizes = {'6981': (23, 427, 240), '151201': (33, 400, 240), 'demo': (280, 340, 256)}
    n_boxes = 0
    for vid, (n, w, h) in sizes.items():
        frames = data[vid]
        assert [f['name'] for f in frames] == [f'{vid}/{k:04d}.jpg' for k in range(1, n + 1)]
        slot_of = {}
        for f in frames:
            for lab in f['labels']:
                b = lab['box2d']
                assert 0 <= b['x1'] < b['x2'] <= w and 0 <= b['y1'] < b['y2'] <= h, (vid, b)
                assert lab['score'] >= 0.05
                assert slot_of.setdefault(lab['track_id'], lab['gt_annotation']) == \
                    lab['gt_annotation']
                n_boxes += 1
        objects = [s for s in set(slot_of.values()) if s != 'object hand']
        assert len(objects) == len(frames[0]['gt_placeholders']) <= 3
    assert n_boxes > 0
    ann = load_box_annotations(str(full))
    assert sorted(ann['demo']['frames']) == list(range(1, 281))

    # kill after the first video, resume, same file
    resumed = tmp_path / 'resumed.json'
    parts = tmp_path / 'resumed_parts'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    proc = subprocess.Popen([sys.executable, str(REPO / 'tools/data/extract_detections.py'),
                             *_toy_args(inputs[::-1], resumed)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    first = parts / 'demo.json'
    deadline = time.time() + 300
    while not first.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
    assert first.exists() and not resumed.exists()
    assert not (parts / '6981.json').exists()  # killed before the last video
    stamp = first.stat().st_mtime_ns
    assert ed.main(_toy_args(inputs[::-1], resumed)) == 0
    assert first.stat().st_mtime_ns == stamp
    again = json.loads(resumed.read_text())
    assert list(again) == ['demo', '151201', '6981']
    assert again == data


def test_detector_moves_to_the_requested_device():
    """``--device`` reaches every parameter and buffer (the meta device stands in for a GPU)."""
    require_mmdet_ops()
    det = ed.MMDetDetector(str(TOY_DET), None, 'meta')
    assert {p.device.type for p in det.model.parameters()} == {'meta'}
    assert {b.device.type for b in det.model.buffers()} <= {'meta'}


@pytest.mark.gpu
@pytest.mark.skipif(not __import__('torch').cuda.is_available(), reason='needs CUDA')
def test_gpu_detections_match_cpu(tmp_path, se_videos):
    """GPU smoke: the toy detector (same seed, same random weights) on a real clip gives the
    same tracks on ``--device cuda`` as on ``--device cpu`` (boxes within 0.5 px)."""
    require_mmdet_ops()
    out = {}
    for device in ('cpu', 'cuda'):
        path = tmp_path / f'{device}.json'
        args = _toy_args([se_videos / '6981'], path)
        args[args.index('--device') + 1] = device
        assert ed.main(args) == 0
        out[device] = json.loads(path.read_text())['6981']
    assert [f['name'] for f in out['cpu']] == [f['name'] for f in out['cuda']]
    for a, b in zip(out['cpu'], out['cuda']):
        assert [lab['gt_annotation'] for lab in a['labels']] == \
            [lab['gt_annotation'] for lab in b['labels']]
        for la, lb in zip(a['labels'], b['labels']):
            for k in ('x1', 'y1', 'x2', 'y2'):
                assert abs(la['box2d'][k] - lb['box2d'][k]) <= 0.5
