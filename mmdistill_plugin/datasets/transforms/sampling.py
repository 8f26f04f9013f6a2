# Copyright (c) mmdistill contributors.
"""Frame sampling for several modalities: mixed uniform / dense sampling, consecutive frames
per segment, and MML's aligned sampling of modalities with different frame counts."""
import zlib
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.datasets.transforms import UniformSample
from mmaction.registry import TRANSFORMS

#: keys naming a sample, the first one set is hashed into :class:`SeededUniformSample`'s seed
VIDEO_KEYS = ('video_id', 'narration_id', 'id', 'frame_dir', 'filename')


@TRANSFORMS.register_module()
class RandomChoiceSample(BaseTransform):
    """Run one of several samplers per sample, drawn with ``probs`` (MML §3.1.1: uniform and
    dense sampling with probability 0.5 each in training); the first one in test mode.

    Args:
        samplers (Sequence[dict]): sampler configs (``SampleFrames``, ``DenseSampleFrames``,
            ``UniformSample``, ...).
        probs (Sequence[float], optional): default uniform.
        test_mode (bool): always the first sampler.
    """

    def __init__(self, samplers: Sequence[dict], probs: Sequence[float] = None,
                 test_mode: bool = False) -> None:
        self.samplers = [TRANSFORMS.build(s) for s in samplers]
        p = (np.full(len(samplers), 1.0 / len(samplers)) if probs is None
             else np.asarray(probs, float))
        if len(p) != len(self.samplers) or (p < 0).any() or not np.isclose(p.sum(), 1.0):
            raise ValueError(f'probs must be {len(self.samplers)} non-negative numbers summing '
                             f'to 1, got {probs}')
        self.probs = p
        self.test_mode = test_mode

    def transform(self, results: dict) -> dict:
        i = 0 if self.test_mode else int(np.random.choice(len(self.samplers), p=self.probs))
        results = self.samplers[i](results)
        results['sampler'] = i
        return results


@TRANSFORMS.register_module()
class ExpandConsecutive(BaseTransform):
    """Every sampled index ``i`` → ``i, i+1, ..., i+num−1`` (clipped to the last frame): each
    sampled frame becomes a segment of ``num`` consecutive frames (stacked flow: 5, RGBDiff: 6).

    Sets ``num_clips`` = number of sampled indices and ``clip_len = num``.
    ``total_key`` names the frame count that bounds the indices (default ``total_frames``).
    """

    def __init__(self, num: int, total_key: str = 'total_frames') -> None:
        if num < 1:
            raise ValueError(f'num must be >= 1, got {num}')
        self.num = num
        self.total_key = total_key

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds']).reshape(-1)
        start = int(results.get('start_index', 0))
        last = start + int(results[self.total_key]) - 1
        out = np.clip(inds[:, None] + np.arange(self.num)[None], start, last).reshape(-1)
        results['frame_inds'] = out.astype(np.int64)
        results['num_clips'] = len(inds)
        results['clip_len'] = self.num
        return results


@TRANSFORMS.register_module()
class AlignedSample(BaseTransform):
    """MML §2.3 frame alignment: sample for the modality with fewer frames, offset the others.

    The wrapped ``sampler`` runs with ``total_frames`` = ``n`` = ``results[short_key]`` (e.g.
    ``flow_total_frames`` = N − 1); then δ ~ U{0, …, N − n} is drawn (0 in ``test_mode``) and
    stored as ``results['frame_offset']``. Loaders of the longer modalities run inside
    :class:`WithFrameOffset`, which reads frames ``i + δ``.
    """

    def __init__(self, sampler: dict, short_key: str = 'flow_total_frames',
                 test_mode: bool = False) -> None:
        self.sampler = TRANSFORMS.build(sampler)
        self.short_key = short_key
        self.test_mode = test_mode

    def transform(self, results: dict) -> dict:
        total = int(results['total_frames'])
        short = int(results.get(self.short_key, total))
        if short > total:
            raise ValueError(f'AlignedSample: {self.short_key}={short} > total_frames={total}')
        results['total_frames'] = short
        results = self.sampler(results)
        results['total_frames'] = total
        results['frame_offset'] = 0 if self.test_mode else int(
            np.random.randint(0, total - short + 1))
        return results


@TRANSFORMS.register_module()
class WithFrameOffset(BaseTransform):
    """Run ``transform`` (a loader) on ``frame_inds + results['frame_offset']``, then restore
    ``frame_inds`` (see :class:`AlignedSample`)."""

    def __init__(self, transform: dict) -> None:
        self.inner = TRANSFORMS.build(transform)

    def transform(self, results: dict) -> dict:
        inds = results['frame_inds']
        results['frame_inds'] = np.asarray(inds) + int(results.get('frame_offset', 0))
        results = self.inner(results)
        results['frame_inds'] = inds
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}({self.inner!r})'


@TRANSFORMS.register_module()
class SeededUniformSample(BaseTransform):
    """``num_clips`` clips of ``clip_len`` frames, each drawn as in training (MMAction2's
    ``UniformSample``: the video split into ``clip_len`` equal segments, one random frame from
    each), with a random state fixed per video, so every evaluation sees the same clips.

    DMCL's test protocol (dmcl.txt §4.2): "ten clips per video, each clip consisting of eight
    frames randomly sampled, centered, and with no data augmentation"; the final prediction is
    the average of the ten clip predictions. The authors' released code draws the ten clips once
    (one random frame per eighth of the video) and stores them for every later evaluation; here
    the draw is repeated from the seed ``crc32(video id) + seed``, which gives the same clips in
    every run, worker and epoch. MMAction2's own ``UniformSample(test_mode=True)`` instead takes
    evenly spaced fixed positions (no randomness), and in training mode it draws ONE clip
    whatever ``num_clips`` says.

    The video id is the first of :data:`VIDEO_KEYS` present in ``results`` (``sample_idx`` when
    none is). Writes ``frame_inds`` (``[num_clips * clip_len]``, clip after clip, plus
    ``start_index``), ``clip_len``, ``num_clips``, ``frame_interval=None``.

    Args:
        clip_len (int): frames per clip (DMCL: 8).
        num_clips (int): clips per video (DMCL: 10).
        seed (int): added to every video's seed (another fixed set of clips).

    Raises:
        ValueError: ``clip_len`` or ``num_clips`` < 1.
        KeyError: ``results`` names no video (none of :data:`VIDEO_KEYS`, no ``sample_idx``).
    """

    def __init__(self, clip_len: int, num_clips: int = 1, seed: int = 0) -> None:
        if clip_len < 1 or num_clips < 1:
            raise ValueError(f'clip_len and num_clips must be >= 1, got {clip_len}, '
                             f'{num_clips}')
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.seed = int(seed)
        self._one_clip = UniformSample(clip_len=clip_len, num_clips=1, test_mode=False)

    def video_seed(self, results: dict) -> int:
        """The seed of this sample's clips (``crc32`` of its id, plus ``seed``), < 2**32."""
        name = next((results[k] for k in VIDEO_KEYS if results.get(k) is not None), None)
        if name is None:
            if results.get('sample_idx') is None:
                raise KeyError(f'SeededUniformSample: the sample has none of {VIDEO_KEYS} '
                               'nor sample_idx to seed its clips with')
            name = f'sample_idx={results["sample_idx"]}'
        return (zlib.crc32(str(name).encode()) + self.seed) % 2**32

    def transform(self, results: dict) -> dict:
        state = np.random.get_state()
        np.random.seed(self.video_seed(results))
        try:  # MMAction2's training draw, num_clips times, from the video's own random state
            inds = np.concatenate([self._one_clip._get_sample_clips(int(results['total_frames']))
                                   for _ in range(self.num_clips)])
        finally:
            np.random.set_state(state)
        results['frame_inds'] = (inds + int(results['start_index'])).astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(clip_len={self.clip_len}, '
                f'num_clips={self.num_clips}, seed={self.seed})')
