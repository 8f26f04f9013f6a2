# Copyright (c) mmdistill contributors.
"""Invariants every loaded modality is checked against once, at load (docs/reliability.md,
"Media invariants"): what the models assume of their input.

* frames of one clip (rgb, flow, depth) have one size, one dtype (bit depth) and the channel
  count of their modality; a frame that differs is named with the first frame's properties;
* float data (audio waveforms, float depth maps) is finite;
* audio is not degenerate: a multichannel wav whose channels cancel in the mono mix (a
  phase-inverted channel) is broken, a silent one is not.

A failure is a :class:`MediaError` (a ``ValueError`` naming the file): the loaders raise it, or,
with ``allow_missing=True``, mark the modality missing with a warning that carries its text.
"""
from typing import Sequence, Tuple

import numpy as np


class MediaError(ValueError):
    """A loaded file breaks a media invariant (the message names the file)."""


#: dtypes a depth frame may have: 8- / 16-bit PNG, float32 TIFF / EXR (metres)
DEPTH_DTYPES = (np.uint8, np.uint16, np.float32)


def stack_frames(frames: Sequence[np.ndarray], paths: Sequence[str], modality: str,
                 dtypes: Tuple[type, ...] = (np.uint8, ), channels: int = 3) -> np.ndarray:
    """``np.stack`` of one clip's decoded frames after checking the clip invariants.

    Args:
        frames: ``[H, W]`` or ``[H, W, C]`` arrays, in clip order.
        paths: the file of each frame (named in errors).
        modality: named in errors.
        dtypes: allowed dtypes (the bit depth: ``np.uint16`` for 16-bit depth PNGs).
        channels: the channel count of the modality (``[H, W]`` counts as 1).

    Returns:
        ``[T, H, W]`` / ``[T, H, W, C]``, the frames' own dtype.

    Raises:
        MediaError: a frame whose size, dtype or channel count differs from the first frame's
            or from the modality's, or a non-finite value in a float frame (names the file).
    """
    if not frames:
        raise MediaError(f'{modality}: no frames to load')
    first = frames[0]
    for img, path in zip(frames, paths):
        c = 1 if img.ndim == 2 else img.shape[2]
        if img.dtype.type not in dtypes:
            raise MediaError(f'{modality} frame {path} has dtype {img.dtype} ({8 * img.itemsize}'
                             f'-bit); {modality} frames must be '
                             f'{" / ".join(np.dtype(d).name for d in dtypes)}')
        if c != channels:
            raise MediaError(f'{modality} frame {path} has {c} channel(s), {modality} frames '
                             f'have {channels}')
        if img.shape[:2] != first.shape[:2] or img.dtype != first.dtype:
            raise MediaError(
                f'{modality} frame {path} is {img.shape[1]}x{img.shape[0]} {img.dtype}, the '
                f'first frame of the clip {paths[0]} is {first.shape[1]}x{first.shape[0]} '
                f'{first.dtype}: frames of one clip must share size and bit depth')
        if img.dtype.kind == 'f' and not np.isfinite(img).all():
            raise MediaError(f'{modality} frame {path} has {int((~np.isfinite(img)).sum())} '
                             f'non-finite value(s) (NaN / inf)')
    return np.stack(frames)


def single_channel_depth(img: np.ndarray, path: str) -> np.ndarray:
    """``[H, W]`` of a depth frame: a 1-channel image as is, a 3- / 4-channel one whose colour
    channels are equal (a grey depth map saved as colour, alpha ignored) as its first channel.

    Raises:
        MediaError: colour channels that differ (a colour image, not a depth map).
    """
    if img.ndim == 2:
        return img
    if img.ndim == 3 and img.shape[2] == 1:
        return img[..., 0]
    if img.ndim == 3 and img.shape[2] in (3, 4):
        c = img[..., :3]
        if (c == c[..., :1]).all():
            return img[..., 0]
        raise MediaError(f'depth frame {path} has {img.shape[2]} different colour channels: a '
                         f'colour image, not a depth map (one channel, or equal channels)')
    raise MediaError(f'depth frame {path} has shape {img.shape}, not [H, W] or [H, W, C]')


def check_waveform(channels: np.ndarray, path: str) -> None:
    """Check PCM / float samples ``[n]`` or ``[n, C]`` (as read, before the mono mix).

    Raises:
        MediaError: non-finite samples (a float wav with NaN / inf), or channels that cancel in
            the mono mix: the mix's RMS is below 1e-3 of the channels' while they are not
            silent (a phase-inverted stereo channel).
    """
    x = np.asarray(channels)
    if x.dtype.kind == 'f':
        bad = ~np.isfinite(x)
        if bad.any():
            first = int(np.argmax(bad.reshape(len(x), -1).any(axis=1)))
            raise MediaError(f'wav file {path} has {int(bad.sum())} non-finite sample value(s) '
                             f'(NaN / inf), the first at sample {first}')
    if x.ndim == 2 and x.shape[1] > 1 and len(x):
        xf = x.astype(np.float64)
        if x.dtype == np.uint8:  # 8-bit PCM is unsigned around 128
            xf -= 128.0
        per = np.sqrt((xf ** 2).mean())
        mix = np.sqrt((xf.mean(axis=1) ** 2).mean())
        if per > 0 and mix < 1e-3 * per:
            raise MediaError(f'wav file {path}: its {x.shape[1]} channels cancel in the mono '
                             f'mix (mix RMS {mix:.3g} vs channel RMS {per:.3g}): a '
                             f'phase-inverted channel?')
