"""Loaders on real frames / flow / audio / video; error messages; allow_missing."""
from pathlib import Path

import cv2
import numpy as np
import pytest
from e2e_utils import load_tool

import mmdistill_plugin  # noqa: F401
from mmaction.registry import TRANSFORMS
from mmdistill_plugin.datasets.transforms import _utils
from mmdistill_plugin.datasets.transforms.audio_features import (hz_to_mel_htk, log_mel_spectrogram,
                                                                 mel_filterbank, mel_to_hz_htk)

DATA = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'
MMA = DATA / 'mmaction2' / 'main' / 'tests' / 'data'
SE = DATA / 'something_else' / 'videos'


def _need(p):
    if not p.exists():
        pytest.skip(f'{p} absent')


def _build(**cfg):
    return TRANSFORMS.build(cfg)


def test_rgb_frames_real_something_else():
    _need(SE / '151201')
    r = dict(frame_dir=str(SE / '151201'), filename_tmpl='{:04d}.jpg',
             frame_inds=np.array([1, 5, 5, 33]))
    out = _build(type='LoadRGBFrames')(r)
    assert out['rgb'].shape == (4, 240, 400, 3) and out['rgb'].dtype == np.uint8
    np.testing.assert_array_equal(out['rgb'][1], cv2.imread(str(SE / '151201' / '0005.jpg')))
    np.testing.assert_array_equal(out['rgb'][1], out['rgb'][2])
    assert out['img_shape'] == (240, 400)
    assert out['modality_present'] == {'rgb': True} and out['modality_mask'] == {'rgb': True}
    with pytest.raises(FileNotFoundError, match='0034.jpg'):
        _build(type='LoadRGBFrames')(dict(r, frame_inds=np.array([34])))


def test_rgb_video_real_mp4_matches_decord():
    _need(MMA / 'test.mp4')
    import decord
    out = _build(type='LoadRGBFrames')(dict(filename=str(MMA / 'test.mp4'),
                                            frame_inds=np.array([1, 2, 300, 999])))
    assert out['rgb'].shape == (4, 256, 340, 3)
    vr = decord.VideoReader(str(MMA / 'test.mp4'))
    np.testing.assert_array_equal(out['rgb'][0], vr[0].asnumpy()[..., ::-1])  # BGR
    np.testing.assert_array_equal(out['rgb'][3], out['rgb'][2])  # clipped to the last frame


def _mp4v(root, name, frames):
    """``frames`` (BGR uint8 [n, H, W, 3]) written by the toy generator's SSv2 writer (mp4v, as
    the toy data): returns ``<root>/videos/<name>.mp4``."""
    (root / 'videos').mkdir(exist_ok=True)
    load_tool('tools/data/generate_toy_dataset.py').write_sthv2_rgb(str(root), name, frames, 8)
    return root / 'videos' / f'{name}.mp4'


def test_video_cache_returns_the_frames_decoding_gives(tmp_path):
    """With ``video_cache_mb`` the frames equal those read without a cache, on the miss that
    fills it and on the hits after, for real H.264 clips and a toy mp4v clip."""
    rng = np.random.RandomState(0)
    toy = _mp4v(tmp_path, 'toy', rng.randint(0, 256, (18, 64, 64, 3), np.uint8))
    videos = [toy] + [p for p in (MMA / 'rawvideo_dataset' / 'part_0.mp4',
                                  DATA / 'mmaction2/main/demo/demo_spatiotemporal_det.mp4')
                      if p.exists()]
    index_sets = [np.array([1, 3, 5, 7, 9, 11, 13, 15]), np.array([18, 2, 2, 40, 1]),
                  np.array([9])]
    for video in videos:
        plain = _build(type='LoadRGBFrames')
        cached = _build(type='LoadRGBFrames', video_cache_mb=64)
        for inds in index_sets * 2:   # the first pass fills the cache, the second reads it
            want = plain(dict(filename=str(video), frame_inds=inds))['rgb']
            got = cached(dict(filename=str(video), frame_inds=inds))['rgb']
            assert got.shape == want.shape and got.dtype == np.uint8
            np.testing.assert_array_equal(got, want)
        first = cached(dict(filename=str(video), frame_inds=index_sets[0]))['rgb']
        assert len({f.tobytes() for f in first}) == 8    # the frames all differ
        assert list(cached._videos) == [str(video)]


def test_video_cache_hit_decodes_nothing_and_evicts_least_recent(tmp_path, monkeypatch):
    from mmdistill_plugin.datasets.transforms import loading
    rng = np.random.RandomState(1)
    a, b, c = (_mp4v(tmp_path, k, rng.randint(0, 256, (10, 32, 32, 3), np.uint8))
               for k in 'abc')
    big = _mp4v(tmp_path, 'big', rng.randint(0, 256, (40, 64, 64, 3), np.uint8))
    one = 10 * 32 * 32 * 3          # bytes of one small decoded video
    t = _build(type='LoadRGBFrames', video_cache_mb=2.5 * one / 2**20)   # room for two
    inds = np.array([1, 4, 10])
    first = {v: t(dict(filename=str(v), frame_inds=inds))['rgb'] for v in (a, b)}
    calls = []
    real_open = loading._open_video
    monkeypatch.setattr(loading, '_open_video', lambda *x: calls.append(x) or real_open(*x))
    np.testing.assert_array_equal(t(dict(filename=str(a), frame_inds=inds))['rgb'], first[a])
    assert calls == []                      # a hit: nothing decoded
    t(dict(filename=str(c), frame_inds=inds))          # evicts b, the least recently used
    assert list(t._videos) == [str(a), str(c)] and len(calls) == 1
    out = t(dict(filename=str(big), frame_inds=np.array([1, 40])))['rgb']   # > the cache
    assert out.shape == (2, 64, 64, 3) and str(big) not in t._videos
    np.testing.assert_array_equal(
        out, _build(type='LoadRGBFrames')(dict(filename=str(big), frame_inds=np.array([1, 40])))[
            'rgb'])
    # a spawned dataloader worker gets the transform pickled, its cache with it
    import pickle
    again = pickle.loads(pickle.dumps(t))
    assert list(again._videos) == [str(a), str(c)]
    np.testing.assert_array_equal(again(dict(filename=str(a), frame_inds=inds))['rgb'], first[a])
    with pytest.raises(ValueError, match='video_cache_mb'):
        _build(type='LoadRGBFrames', video_cache_mb=-1)


def test_rgb_video_errors(tmp_path):
    missing = tmp_path / 'nope.mp4'
    with pytest.raises(FileNotFoundError, match=str(missing)):
        _build(type='LoadRGBFrames')(dict(filename=str(missing), frame_inds=np.array([1])))
    bad = tmp_path / 'garbage.mp4'
    bad.write_bytes(np.random.RandomState(0).bytes(4096))
    with pytest.raises(RuntimeError, match='garbage.mp4'):
        _build(type='LoadRGBFrames')(dict(filename=str(bad), frame_inds=np.array([1])))
    # allow_missing: zeros of the right shape, not present, one warning per file
    _utils._WARNED.clear()
    t = _build(type='LoadRGBFrames', allow_missing=True, missing_shape=(32, 48))
    out = t(dict(filename=str(bad), frame_inds=np.array([1, 2, 3])))
    assert out['rgb'].shape == (3, 32, 48, 3) and not out['rgb'].any()
    assert out['modality_present'] == {'rgb': False} and out['modality_mask'] == {'rgb': False}
    t(dict(filename=str(bad), frame_inds=np.array([1])))
    assert _utils._WARNED == {f'rgb:{bad}'}


def test_flow_real_mmaction_frames():
    _need(MMA / 'imgs' / 'x_00001.jpg')
    r = dict(flow_dir=str(MMA / 'imgs'), frame_inds=np.arange(1, 11))
    t = _build(type='LoadFlowFrames', filename_tmpl='{}_{:05d}.jpg', components=('x', 'y'),
               ratio=1)
    # 5 flow frames on disk: one index past the end is clamped (max_overrun=1), more raise
    with pytest.raises(ValueError, match='has 5 frames but the sample needs flow frames up to 10'):
        t(dict(r))
    out = t(dict(r, frame_inds=np.arange(1, 7)))
    f = out['flow']
    assert f.dtype == np.uint8 and f.shape[0] == 6 and f.shape[-1] == 2
    assert out['flow_inds'].tolist() == [1, 2, 3, 4, 5, 5]
    x3 = cv2.imread(str(MMA / 'imgs' / 'x_00003.jpg'), cv2.IMREAD_GRAYSCALE)
    y3 = cv2.imread(str(MMA / 'imgs' / 'y_00003.jpg'), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(f[2, ..., 0], x3)
    np.testing.assert_array_equal(f[2, ..., 1], y3)
    assert f.shape[1:3] == x3.shape
    # EPIC-style half-rate flow: flow = (rgb - 1) // 2 + 1; parameters from results
    out2 = _build(type='LoadFlowFrames')(dict(r, rgb_to_flow_ratio=2))
    assert out2['flow_inds'].tolist() == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    np.testing.assert_array_equal(out2['flow'][4, ..., 0], x3)
    assert out2['modality_present'] == {'flow': True}


def test_flow_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match='x_00001.jpg'):
        _build(type='LoadFlowFrames')(dict(flow_dir=str(tmp_path), frame_inds=np.array([1])))
    out = _build(type='LoadFlowFrames', allow_missing=True)(
        dict(flow_dir=str(tmp_path), frame_inds=np.array([1, 2]), img_shape=(20, 30)))
    assert out['flow'].shape == (2, 20, 30, 2) and out['modality_present']['flow'] is False


def test_mel_filterbank_htk():
    assert float(hz_to_mel_htk(700.0)) == pytest.approx(2595 * np.log10(2))
    assert float(mel_to_hz_htk(hz_to_mel_htk(1234.5))) == pytest.approx(1234.5)
    fb = mel_filterbank(16000, 512, 128)
    assert fb.shape == (257, 128) and (fb >= 0).all() and fb.max() <= 1.0
    # 31.25 Hz FFT bins: only the lowest filter (0..~26 Hz) catches no bin, as in torchaudio
    assert np.flatnonzero(fb.sum(0) == 0).tolist() == [0]
    # a 1 kHz tone peaks in the mel bin whose centre is nearest 1 kHz
    t = np.arange(16000) / 16000.0
    spec = log_mel_spectrogram(np.sin(2 * np.pi * 1000 * t))
    assert spec.shape == (1 + (16000 - 400) // 160, 128)
    centres = mel_to_hz_htk(np.linspace(0, hz_to_mel_htk(8000), 130))[1:-1]
    assert abs(int(spec.mean(0).argmax()) - int(np.abs(centres - 1000).argmin())) <= 1


def test_audio_real_wav():
    _need(MMA / 'test.wav')
    t = _build(type='LoadAudioLogMel', num_frames=1024)
    out = t(dict(audio_path=str(MMA / 'test.wav')))
    a = out['audio']
    assert a.shape == (1024, 128) and a.dtype == np.float32 and np.isfinite(a).all()
    n = 1 + (104908 - 400) // 160  # 104,908 samples at 16 kHz -> 654 frames
    assert (a[n:] == np.float32(np.log(1e-6))).all() and (a[n - 1] != a[n]).any()
    again = t(dict(audio_path=str(MMA / 'test.wav')))
    np.testing.assert_array_equal(a, again['audio'])
    seg = _build(type='LoadAudioLogMel', num_frames=100)(
        dict(audio_path=str(MMA / 'test.wav'), start_timestamp=1.0, stop_timestamp=2.0))
    # 1 s -> 98 frames, padded to 100; equal to the full spectrogram shifted by 100 frames
    assert seg['audio'].shape == (100, 128)
    np.testing.assert_allclose(seg['audio'][:98], a[100:198], rtol=1e-5, atol=1e-4)
    assert out['modality_present'] == {'audio': True}


def test_audio_resampled_and_missing(tmp_path):
    from scipy.io import wavfile
    sr = 48000
    t = np.arange(sr * 2) / sr
    x = (0.3 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)
    wavfile.write(tmp_path / 'a.wav', sr, np.stack([x, x], 1))
    out = _build(type='LoadAudioLogMel', num_frames=150)(dict(audio_path=str(tmp_path / 'a.wav')))
    assert out['audio'].shape == (150, 128)
    assert (out['audio'] > -13).any()
    with pytest.raises(FileNotFoundError, match='b.wav'):
        _build(type='LoadAudioLogMel')(dict(audio_path=str(tmp_path / 'b.wav')))
    m = _build(type='LoadAudioLogMel', num_frames=16, allow_missing=True)(
        dict(audio_path=str(tmp_path / 'b.wav')))
    assert m['audio'].shape == (16, 128) and not m['audio'].any()
    assert m['modality_present'] == {'audio': False}


def test_boxes_missing_video():
    with pytest.raises(KeyError, match='v1'):
        _build(type='LoadBoxes')(dict(video_id='v1', boxes_info=None, frame_inds=np.array([1])))
    out = _build(type='LoadBoxes', max_boxes=2, allow_missing=True)(
        dict(video_id='v1', boxes_info=None, frame_inds=np.array([1, 2])))
    assert out['boxes'].shape == (2, 2, 6) and out['modality_present'] == {'boxes': False}
