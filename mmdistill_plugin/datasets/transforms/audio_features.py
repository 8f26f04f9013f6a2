# Copyright (c) mmdistill contributors.
"""NumPy log-mel spectrogram (torchaudio / librosa are not part of the stack)."""
from functools import lru_cache
from math import gcd
from typing import Tuple

import numpy as np


def hz_to_mel_htk(freq):
    """HTK mel scale: ``mel = 2595 * log10(1 + f / 700)`` (``f`` in Hz)."""
    return 2595.0 * np.log10(1.0 + np.asarray(freq, dtype=np.float64) / 700.0)


def mel_to_hz_htk(mel):
    """Inverse of :func:`hz_to_mel_htk`."""
    return 700.0 * (10.0**(np.asarray(mel, dtype=np.float64) / 2595.0) - 1.0)


@lru_cache(maxsize=16)
def mel_filterbank(sample_rate: int, n_fft: int, n_mels: int, f_min: float = 0.0,
                   f_max: float = None) -> np.ndarray:
    """Triangular HTK mel filterbank (same construction as torchaudio's
    ``melscale_fbanks(norm=None, mel_scale='htk')``).

    Returns:
        np.ndarray: float64 ``[n_fft // 2 + 1, n_mels]``; ``power_spec @ fb`` gives mel energies.
    """
    f_max = sample_rate / 2.0 if f_max is None else f_max
    all_freqs = np.linspace(0, sample_rate / 2.0, n_fft // 2 + 1)
    m_pts = np.linspace(hz_to_mel_htk(f_min), hz_to_mel_htk(f_max), n_mels + 2)
    f_pts = mel_to_hz_htk(m_pts)
    f_diff = f_pts[1:] - f_pts[:-1]  # [n_mels + 1]
    slopes = f_pts[None, :] - all_freqs[:, None]  # [n_freqs, n_mels + 2]
    down = -slopes[:, :-2] / f_diff[:-1]
    up = slopes[:, 2:] / f_diff[1:]
    fb = np.maximum(0.0, np.minimum(down, up))
    fb.setflags(write=False)
    return fb


def resample(wave: np.ndarray, orig_sr: int, target_sr: int) -> np.ndarray:
    """Polyphase resampling (``scipy.signal.resample_poly``) of a 1-D signal."""
    if orig_sr == target_sr:
        return wave
    from scipy.signal import resample_poly
    g = gcd(int(orig_sr), int(target_sr))
    return resample_poly(wave, int(target_sr) // g, int(orig_sr) // g)


def resampled_length(n: int, orig_sr: int, target_sr: int) -> int:
    """Length of :func:`resample` of ``n`` samples (``ceil(n * up / down)``, as
    ``resample_poly``)."""
    g = gcd(int(orig_sr), int(target_sr))
    up, down = int(target_sr) // g, int(orig_sr) // g
    return -(-int(n) * up // down)


def resample_read_range(n: int, orig_sr: int, target_sr: int, start: int,
                        stop: int) -> Tuple[int, int, int, int]:
    """Input samples to read so that resampling them gives output samples ``[start, stop)``.

    ``resample(x, orig_sr, target_sr)[start:stop]`` equals (to float rounding)
    ``resample(x[a:b], orig_sr, target_sr)[lo:hi]`` for the returned ``(a, b, lo, hi)``: ``a`` is
    a multiple of ``orig_sr / gcd`` (so the output grids of the segment and of the whole signal
    coincide) and ``[a, b)`` covers the polyphase filter's support (``resample_poly``'s default
    Kaiser window, half-length ``10 * max(up, down)`` upsampled samples) around the wanted outputs,
    clipped to ``[0, n)`` (zeros beyond the ends, as ``resample_poly`` pads).

    Args:
        n (int): length of the whole input signal (samples at ``orig_sr``).
        start, stop (int): wanted output samples (at ``target_sr``), ``0 <= start <= stop <=
            resampled_length(n, ...)``.

    Returns:
        tuple[int, int, int, int]: ``a, b`` (input range) and ``lo, hi`` (slice of the
        segment's resampled output).
    """
    if orig_sr == target_sr:
        return start, stop, 0, stop - start
    g = gcd(int(orig_sr), int(target_sr))
    up, down = int(target_sr) // g, int(orig_sr) // g
    half = -(-10 * max(up, down) // up) + 2  # filter half-support in input samples, + margin
    a = max(0, (start // up - (-(-half // down))) * down)
    b = min(int(n), -(-stop * down // up) + half)
    off = a * up // down
    return a, max(a, b), start - off, stop - off


def log_mel_spectrogram(wave: np.ndarray,
                        sample_rate: int = 16000,
                        n_mels: int = 128,
                        win_ms: float = 25.0,
                        hop_ms: float = 10.0,
                        eps: float = 1e-6) -> np.ndarray:
    """Log-mel spectrogram of a mono waveform.

    Hann window of ``win_ms`` ms, hop ``hop_ms`` ms, FFT size the next power of two of the
    window, power spectrum, HTK mel filterbank ``[0, sr/2]``, ``log(mel + eps)``. No centring:
    ``F = 1 + (len - win) // hop`` frames (a signal shorter than a window is zero-padded to one).

    Args:
        wave (np.ndarray): ``[L]`` samples (float, roughly in [-1, 1]).

    Returns:
        np.ndarray: float32 ``[F, n_mels]``.
    """
    wave = np.asarray(wave, dtype=np.float64).reshape(-1)
    win = int(round(sample_rate * win_ms / 1000.0))
    hop = int(round(sample_rate * hop_ms / 1000.0))
    n_fft = 1 << (win - 1).bit_length()
    if wave.size < win:
        wave = np.pad(wave, (0, win - wave.size))
    n_frames = 1 + (wave.size - win) // hop
    idx = np.arange(win)[None, :] + hop * np.arange(n_frames)[:, None]
    window = np.hanning(win + 1)[:-1]  # periodic Hann
    frames = wave[idx] * window
    power = np.abs(np.fft.rfft(frames, n=n_fft, axis=1))**2
    mel = power @ mel_filterbank(sample_rate, n_fft, n_mels)
    return np.log(mel + eps).astype(np.float32)


def fit_frames(spec: np.ndarray, num_frames: int, pad_value: float,
               mode: str = 'center', draw=None) -> Tuple[np.ndarray, int]:
    """Pad (at the end, with ``pad_value``) or crop ``spec [F, M]`` to ``num_frames`` rows.

    ``mode``: 'center' | 'start' | 'random' (numpy global RNG) for the crop position; with
    'random', ``draw(sample)`` (optional) records / replays the offset (see ``view.draw``).
    Returns the fitted array and the crop offset (0 when padded).
    """
    n = spec.shape[0]
    if n < num_frames:
        pad = np.full((num_frames - n, spec.shape[1]), pad_value, dtype=spec.dtype)
        return np.concatenate([spec, pad], axis=0), 0
    if mode == 'center':
        off = (n - num_frames) // 2
    elif mode == 'start':
        off = 0
    elif mode == 'random':
        def sample():
            return int(np.random.randint(0, n - num_frames + 1))
        off = int(draw(sample)) if draw is not None else sample()
    else:
        raise ValueError(f'unknown crop mode {mode!r}')
    return spec[off:off + num_frames], off
