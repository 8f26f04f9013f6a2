"""Tests of tools/data/extract_flow.py and tools/data/generate_toy_dataset.py (CPU, seconds)."""
import ast
import csv
import importlib.util
import json
import re
import sys
import wave
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared' / 'data'
MMA_IMGS = SHARED / 'mmaction2' / 'main' / 'tests' / 'data' / 'imgs'
EPIC_ANN = SHARED / 'epic_kitchens_100_annotations'


def _load(name):
    spec = importlib.util.spec_from_file_location(name, REPO / 'tools' / 'data' / f'{name}.py')
    mod = importlib.util.module_from_spec(spec)
    sys.modules[name] = mod  # so that multiprocessing workers can unpickle its functions
    spec.loader.exec_module(mod)
    return mod


ef = _load('extract_flow')
gen = _load('generate_toy_dataset')

# verb -> expected (sign x, sign y) of the object flow
EPIC_DIRS = {0: (1, 0), 1: (-1, 0), 2: (0, -1), 3: (0, 1)}


# ------------------------------------------------------------------ quantisation
def test_quantize_round_trip_and_zero_point():
    b = 20.0
    f = np.random.default_rng(0).uniform(-b, b, (1000, 2)).astype(np.float32)
    q = ef.quantize_flow(f, b)
    assert q.dtype == np.uint8
    assert np.abs(ef.dequantize_flow(q, b) - f).max() <= b / 255 + 1e-5
    zero = ef.quantize_flow(np.zeros((4, 4)), b)
    assert np.all(np.abs(zero.astype(np.float32) - 127.5) <= 0.5)
    assert ef.dequantize_flow(np.float32(127.5), b) == pytest.approx(0.0, abs=1e-5)
    # out-of-bound values clip; formula q = round((f + b) * 255 / 2b)
    assert ef.quantize_flow(np.array([-100.0, 100.0, 10.0]), b).tolist() == [0, 255, 191]
    # the generator uses the very same quantisation
    assert np.array_equal(gen.quantize_flow(f), q)


def _texture(size=64, seed=0):
    noise = np.random.default_rng(seed).random((size, size)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(noise, (0, 0), 1.5) * 255 * 3 - 255, 0, 255).astype(np.uint8)


@pytest.mark.parametrize('algorithm', ['tvl1', 'farneback'])
def test_flow_of_shifted_texture(algorithm):
    tex = _texture()
    moved = np.roll(np.roll(tex, 2, axis=1), -1, axis=0)     # content moves right 2, up 1
    q = ef.extract_flow([tex, moved], algorithm=algorithm, bound=20)
    assert q.shape == (1, 64, 64, 2) and q.dtype == np.uint8
    f = ef.dequantize_flow(q, 20)[0, 12:-12, 12:-12]
    mx, my = float(f[..., 0].mean()), float(f[..., 1].mean())
    assert mx == pytest.approx(2.0, abs=0.5)
    assert my == pytest.approx(-1.0, abs=0.5)


def test_extract_flow_needs_two_frames():
    with pytest.raises(ef.FlowExtractionError):
        ef.extract_flow([_texture()], 'farneback')


@pytest.mark.skipif(not (MMA_IMGS / 'img_00003.jpg').exists(), reason='shared data absent')
def test_cli_on_real_frames(tmp_path):
    out = tmp_path / 'flow'
    rc = ef.main(['--input', str(MMA_IMGS), '--frame-pattern', 'img_0000[1-3].jpg',
                  '--out-dir', str(out), '--new-short', '96'])
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == ['x_00001.jpg', 'x_00002.jpg',
                                                     'y_00001.jpg', 'y_00002.jpg']
    img = cv2.imread(str(out / 'x_00001.jpg'), cv2.IMREAD_UNCHANGED)
    assert img.ndim == 2 and img.shape == (96, 128)
    # EPIC layout, half rate: 3 frames with step 2 -> 1 flow frame
    out2 = tmp_path / 'epic'
    rc = ef.main(['--input', str(MMA_IMGS), '--frame-pattern', 'img_0000[1-3].jpg',
                  '--out-dir', str(out2), '--tmpl', '{axis}/frame_{idx:010d}.jpg',
                  '--axes', 'u', 'v', '--step', '2', '--algorithm', 'farneback',
                  '--new-short', '64'])
    assert rc == 0
    assert [p.name for p in (out2 / 'u').iterdir()] == ['frame_0000000001.jpg']
    assert [p.name for p in (out2 / 'v').iterdir()] == ['frame_0000000001.jpg']


def test_errors_name_the_file(tmp_path):
    empty = tmp_path / 'empty'
    empty.mkdir()
    with pytest.raises(ef.FlowExtractionError, match=re.escape(str(empty)) + '.*no image'):
        ef.process_one(str(empty), str(tmp_path / 'o'))
    bad = tmp_path / 'bad.mp4'
    bad.write_bytes(b'not a video')
    with pytest.raises(ef.FlowExtractionError, match=re.escape(str(bad))):
        ef.process_one(str(bad), str(tmp_path / 'o'))
    # batch mode reports the failure, exit status 1
    assert ef.main(['--input', str(tmp_path), '--out-dir', str(tmp_path / 'o'), '--batch']) == 1


# ------------------------------------------------------------------ toy generator
@pytest.fixture(scope='module')
def toy(tmp_path_factory, toy_data):
    """The session's toy data (seed 0, tiny, one worker) and the same made by two workers."""
    b = tmp_path_factory.mktemp('toy') / 'b'
    gen.generate(str(b), seed=0, scale='tiny', workers=2, verbose=False)
    return toy_data, b


def _rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def test_generator_is_deterministic(toy, tmp_path):
    a, b = toy
    files = ['epic/annotations/EPIC_100_train.csv', 'epic/annotations/EPIC_100_validation.csv',
             'epic/annotations/EPIC_100_verb_classes.csv', 'epic/annotations/toy_cues.json',
             'epic/P01/rgb_frames/P01_01/frame_0000000001.jpg',
             'epic/P01/flow_frames/P01_01/u/frame_0000000010.jpg',
             'epic/P01/audio/P01_01.wav', 'sthv2/annotations/train.json',
             'sthv2/annotations/annotations.json', 'sthv2/frames/1000/0001.jpg',
             'sthv2/flow/1000/x_00001.jpg']
    for f in files:
        assert (a / f).read_bytes() == (b / f).read_bytes(), f
    c = tmp_path / 'c'
    gen.generate(str(c), seed=1, scale='tiny', workers=1, verbose=False)
    assert (c / files[0]).read_bytes() != (a / files[0]).read_bytes()
    # refuses to wipe a folder it did not make
    (tmp_path / 'd' / 'epic').mkdir(parents=True)
    (tmp_path / 'd' / 'epic' / 'precious.txt').write_text('x')
    with pytest.raises(FileExistsError):
        gen.generate(str(tmp_path / 'd'), seed=0, scale='tiny', verbose=False)


def test_epic_annotation_format(toy):
    ann = toy[0] / 'epic' / 'annotations'
    header = (ann / 'EPIC_100_validation.csv').read_text().splitlines()[0]
    assert header.split(',') == gen.EPIC_COLUMNS
    real = EPIC_ANN / 'EPIC_100_validation.csv'
    if real.exists():
        assert header == real.read_text().splitlines()[0]
        for name in ('EPIC_100_verb_classes.csv', 'EPIC_100_noun_classes.csv'):
            assert (ann / name).read_text().splitlines()[0] == \
                (EPIC_ANN / name).read_text().splitlines()[0]
    train, val = _rows(ann / 'EPIC_100_train.csv'), _rows(ann / 'EPIC_100_validation.csv')
    assert train and val
    assert not {r['video_id'] for r in train} & {r['video_id'] for r in val}
    ts = r'^\d\d:\d\d:\d\d\.\d\d$'
    for r in train + val:
        assert r['narration_id'].startswith(r['video_id'] + '_')
        assert r['video_id'].startswith(r['participant_id'] + '_')
        assert re.match(ts, r['start_timestamp']) and re.match(ts, r['stop_timestamp'])
        assert re.match(r'^\d\d:\d\d:\d\d\.\d\d\d$', r['narration_timestamp'])
        s, e = int(r['start_frame']), int(r['stop_frame'])
        assert 1 <= s < e
        assert r['narration'] == f"{r['verb']} {r['noun']}"
        assert ast.literal_eval(r['all_nouns']) == [r['noun']]
        assert ast.literal_eval(r['all_noun_classes']) == [int(r['noun_class'])]
    for name in ('EPIC_100_verb_classes.csv', 'EPIC_100_noun_classes.csv'):
        cls = _rows(ann / name)
        assert [int(c['id']) for c in cls] == [0, 1, 2, 3]
        assert all(isinstance(ast.literal_eval(c['instances']), list) for c in cls)


def _epic_video_files(root, r):
    return root / 'epic' / r['participant_id'], r['video_id']


def test_epic_flow_direction_matches_verb_and_files_are_consistent(toy):
    root = toy[0]
    ann = root / 'epic' / 'annotations'
    rows = _rows(ann / 'EPIC_100_train.csv') + _rows(ann / 'EPIC_100_validation.csv')
    fps = 30
    for r in rows:
        pdir, vid = _epic_video_files(root, r)
        n_rgb = len(list((pdir / 'rgb_frames' / vid).glob('frame_*.jpg')))
        n_flow = len(list((pdir / 'flow_frames' / vid / 'u').glob('frame_*.jpg')))
        assert n_flow == n_rgb // 2
        assert int(r['stop_frame']) <= n_rgb
        with wave.open(str(pdir / 'audio' / f'{vid}.wav')) as w:
            assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
            assert abs(w.getnframes() - n_rgb / fps * 16000) <= 1
        s, e = int(r['start_frame']), int(r['stop_frame'])
        js = range((s - 1) // 2 + 1, (e - 1) // 2 + 1)      # data-model flow index mapping
        field = 0.0
        for j in js:
            for c, ax in enumerate('uv'):
                q = cv2.imread(str(pdir / 'flow_frames' / vid / ax / f'frame_{j:010d}.jpg'),
                               cv2.IMREAD_GRAYSCALE)
                if c == 0:
                    uv = np.zeros(q.shape + (2,), np.float32)
                uv[..., c] = ef.dequantize_flow(q)
            field = field + uv
        field /= len(js)
        mean = (field - np.median(field, axis=(0, 1))).mean(axis=(0, 1))
        axis = int(np.argmax(np.abs(mean)))
        got = [0, 0]
        got[axis] = int(np.sign(mean[axis]))
        assert tuple(got) == EPIC_DIRS[int(r['verb_class'])], (r['narration_id'], mean)


def test_epic_audio_pitch_matches_noun_shape_bit(toy):
    root = toy[0]
    ann = root / 'epic' / 'annotations'
    cues = {c['narration_id']: c for c in json.loads((ann / 'toy_cues.json').read_text())}
    rows = _rows(ann / 'EPIC_100_train.csv') + _rows(ann / 'EPIC_100_validation.csv')
    checked = 0
    for r in rows:
        if cues[r['narration_id']]['audio_masked']:
            continue
        pdir, vid = _epic_video_files(root, r)
        with wave.open(str(pdir / 'audio' / f'{vid}.wav')) as w:
            x = np.frombuffer(w.readframes(w.getnframes()), '<i2').astype(np.float32)
        a0 = int(gen.parse_ts(r['start_timestamp']) * 16000)
        a1 = int(gen.parse_ts(r['stop_timestamp']) * 16000)
        spec = np.abs(np.fft.rfft(x[a0:a1]))
        freqs = np.fft.rfftfreq(a1 - a0, 1 / 16000)
        spec[freqs < 150] = 0
        f0 = freqs[np.argmax(spec)]
        shape_bit = int(r['noun_class']) % 2
        assert (f0 > 700) == bool(shape_bit), (r['narration_id'], f0)
        checked += 1
    assert checked >= len(rows) // 2


def test_sthv2_annotations_boxes_and_cues(toy):
    root = toy[0] / 'sthv2'
    ann = root / 'annotations'
    labels = json.loads((ann / 'labels.json').read_text())
    assert all(isinstance(v, str) and '[' not in k for k, v in labels.items())
    assert len(labels) == len(gen.STHV2_CLASSES)
    train = json.loads((ann / 'train.json').read_text())
    val = json.loads((ann / 'validation.json').read_text())
    assert not {e['id'] for e in train} & {e['id'] for e in val}
    boxes = json.loads((ann / 'annotations.json').read_text())
    import decord
    without_boxes = 0
    for e in train + val:
        assert set(e) == {'id', 'label', 'template', 'placeholders'}
        label = int(labels[e['template'].replace('[', '').replace(']', '')])
        frames = sorted((root / 'frames' / e['id']).glob('*.jpg'))
        assert frames[0].name == '0001.jpg' and 16 <= len(frames) <= 24
        assert len(decord.VideoReader(str(root / 'videos' / f"{e['id']}.mp4"))) == len(frames)
        assert len(list((root / 'flow' / e['id']).glob('x_*.jpg'))) == len(frames) - 1
        per_frame = boxes[e['id']]
        without_boxes += len(frames) - len(per_frame)
        assert all(f['name'].startswith(e['id'] + '/') for f in per_frame)
        cats = {b['standard_category'] for f in per_frame for b in f['labels']}
        assert '0000' in cats
        # object-0 trajectory carries the direction
        obj = [(int(f['name'][-8:-4]), b['box2d']) for f in per_frame for b in f['labels']
               if b['gt_annotation'] == 'object 0']
        (_, b0), (_, b1) = obj[0], obj[-1]
        d = np.array([(b1['x1'] + b1['x2']) - (b0['x1'] + b0['x2']),
                      (b1['y1'] + b1['y2']) - (b0['y1'] + b0['y2'])]) / 2
        axis = int(np.argmax(np.abs(d)))
        got = [0, 0]
        got[axis] = int(np.sign(d[axis]))
        assert tuple(got) == gen.STHV2_CLASSES[label][1], e
    assert without_boxes > 0   # some frames have no box annotation at all
