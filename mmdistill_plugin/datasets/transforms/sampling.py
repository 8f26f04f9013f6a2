# Copyright (c) mmdistill contributors.
"""Frame sampling for several modalities: mixed uniform / dense sampling, consecutive frames
per segment, and MML's aligned sampling of modalities with different frame counts."""
from typing import Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


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
