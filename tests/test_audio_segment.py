"""Audio segments: reading only [start, stop] equals cutting the whole resampled file."""
import wave

import numpy as np
import pytest
from scipy.io import wavfile

from mmdistill_plugin.datasets.transforms import loading
from mmdistill_plugin.datasets.transforms.audio_features import (resample, resample_read_range,
                                                                 resampled_length)
from mmdistill_plugin.datasets.transforms.loading import read_audio_segment, read_wav


def _write(path, sr, seconds, channels=2, dtype=np.int16, seed=0):
    rng = np.random.default_rng(seed)
    n = int(sr * seconds)
    x = rng.uniform(-0.5, 0.5, (n, channels))
    if dtype == np.int16:
        x = (x * 32767).astype(np.int16)
    else:
        x = x.astype(dtype)
    wavfile.write(str(path), sr, x if channels > 1 else x[:, 0])
    return n


def _whole(path, target, start, stop):
    x, sr = read_wav(str(path))
    y = resample(x, sr, target)
    s = 0 if start is None else max(0, int(round(start * target)))
    e = y.size if stop is None else int(round(stop * target))
    return y[s:max(s, e)]


@pytest.mark.parametrize('orig_sr', [44100, 48000, 16000, 8000, 22050])
@pytest.mark.parametrize('start,stop', [(0.731, 1.9), (0.0, 0.5), (None, None), (2.5, 3.0),
                                        (2.5, 9.0), (2.99, 3.0), (4.0, 5.0), (1.0, 1.0)])
def test_segment_equals_slice_of_whole(tmp_path, orig_sr, start, stop):
    path = tmp_path / 'a.wav'
    _write(path, orig_sr, 3.0)
    ref = _whole(path, 16000, start, stop)
    got = read_audio_segment(str(path), 16000, start, stop)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    if stop is not None and stop <= 3.0 and start is not None:
        assert got.size == int(round(stop * 16000)) - int(round(start * 16000))


def test_segment_reads_only_its_range(tmp_path, monkeypatch):
    """44.1 kHz -> 16 kHz: the read range is the segment plus the filter support, aligned to the
    441-sample period of the polyphase grid, and independent of the file length."""
    path = tmp_path / 'a.wav'
    n = _write(path, 44100, 20.0, channels=1)
    seen = []
    orig = loading._read_wav_local

    def spy(local, select):
        data, sr, a = orig(local, select)
        seen.append((a, a + data.shape[0]))
        return data, sr, a
    monkeypatch.setattr(loading, '_read_wav_local', spy)
    read_audio_segment(str(path), 16000, 10.0, 11.0)
    (a, b), = seen
    assert a % 441 == 0 and 0 < 441000 - a < 600 and 0 < b - 441000 - 44100 < 100
    assert resample_read_range(n, 44100, 16000, 160000, 176000) == \
        resample_read_range(100 * n, 44100, 16000, 160000, 176000)
    assert resampled_length(n, 44100, 16000) == resample(np.zeros(n), 44100, 16000).size


def test_24bit_wav_through_wave_seek(tmp_path):
    """24-bit PCM (scipy cannot memory-map it): the std-lib reader seeks; same samples."""
    rng = np.random.default_rng(1)
    v = rng.integers(-2**23, 2**23, size=48000, dtype=np.int32)
    raw = np.stack([(v >> s) & 0xFF for s in (0, 8, 16)], 1).astype(np.uint8).tobytes()
    path = tmp_path / 'a24.wav'
    with wave.open(str(path), 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(3)
        w.setframerate(48000)
        w.writeframes(raw)
    x, sr = read_wav(str(path))
    assert sr == 48000
    np.testing.assert_array_equal(x, v / 2.0**23)
    got = read_audio_segment(str(path), 16000, 0.2, 0.6)
    np.testing.assert_allclose(got, resample(x, 48000, 16000)[3200:9600], rtol=0, atol=1e-12)
