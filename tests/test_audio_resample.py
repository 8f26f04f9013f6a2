"""Audio reaches the log-mel at the model's sample rate: resampling changes length and pitch
exactly as the rates say."""
import numpy as np
import pytest

from mmaction.registry import TRANSFORMS
from mmdistill_plugin.datasets.transforms.audio_features import (hz_to_mel_htk, mel_to_hz_htk,
                                                                 resample)


def tone(sr, seconds=1.0, hz=440.0):
    t = np.arange(int(sr * seconds)) / sr
    return np.sin(2 * np.pi * hz * t)


@pytest.mark.parametrize('orig,target', [(48000, 16000), (44100, 16000), (8000, 16000)])
def test_resample_length_and_samples(orig, target):
    y = resample(tone(orig, 2.0), orig, target)
    assert y.shape == (2 * target, )
    ref = tone(target, 2.0)
    inner = slice(target // 10, -target // 10)  # away from the filter's edge effects
    np.testing.assert_allclose(y[inner], ref[inner], atol=0.02)


def test_resample_same_rate_is_identity():
    x = tone(16000)
    assert resample(x, 16000, 16000) is x


@pytest.mark.parametrize('sr', [48000, 16000])
def test_loader_resamples_to_sample_rate(tmp_path, sr):
    from scipy.io import wavfile
    x = (0.3 * tone(sr, 2.0, hz=1000.0) * 32767).astype(np.int16)
    wavfile.write(tmp_path / 'a.wav', sr, x)
    out = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=300, sample_rate=16000))(
        dict(audio_path=str(tmp_path / 'a.wav')))['audio']
    # 2 s at 16 kHz = 32000 samples -> 1 + (32000 - 400) // 160 = 198 frames, then silence
    n = 1 + (32000 - 400) // 160
    silence = np.float32(np.log(1e-6))
    assert (out[n:] == silence).all() and (out[:n] != silence).any(axis=1).all()
    # the 1 kHz tone lands in the mel bin of 1 kHz (not 1/3 of it, as 48 kHz read as 16 kHz)
    centres = mel_to_hz_htk(np.linspace(0, hz_to_mel_htk(8000), 130))[1:-1]
    assert abs(int(out[:n].mean(0).argmax()) - int(np.abs(centres - 1000).argmin())) <= 1
