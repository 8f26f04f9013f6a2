# Copyright (c) mmdistill contributors.
"""Turn L consecutive frames per segment into one multi-channel input frame (MML §3.1):
stacked optical flow (5 x/y pairs = 10 channels), RGBDiff (5 differences of 6 frames), and one
RGB frame per segment, for 2D (TSM / TSN) networks."""
from typing import Dict, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


@TRANSFORMS.register_module()
class FramesToSegments(BaseTransform):
    """Per segment (clip) of ``L = results['clip_len']`` consecutive frames, build one input.

    ``ops`` maps an output modality to what it takes from ``[num_clips·L, H, W, C]`` arrays:

    - ``'center'``: frame ``L // 2`` of the segment → ``[num_clips, H, W, C]``;
    - ``dict(stack=k)``: the first k frames concatenated on channels (frame-major:
      ``x1, y1, x2, y2, ...`` for flow) → ``[num_clips, H, W, k·C]``;
    - ``dict(diff=k, source='rgb')``: the k differences ``f[t+1] − f[t]`` of the first k + 1
      frames of ``source`` (float32, in source units) concatenated → ``[num_clips, H, W, k·C]``.

    Difference outputs are computed before any key is overwritten. Afterwards
    ``results['clip_len'] = 1`` (every visual modality is one frame per segment): put this after
    the spatial transforms (which see L frames, so flips negate only the flow's x channel) and
    before ``PackMultimodalInputs``. With ``as_clip=True`` (3D networks) the segments' frames
    form ONE clip instead: ``num_clips = 1``, ``clip_len`` = the number of segments, so
    ``PackMultimodalInputs`` gives ``[1, C, num_segments, H, W]`` (e.g. per-frame RGBDiff for a
    3D CNN: ``ExpandConsecutive(num=2)`` then ``rgb_diff=dict(diff=1)``).

    Example (MML on SSv2: 8 segments of 6 consecutive frames)::

        dict(type='FramesToSegments', ops=dict(rgb='center', flow=dict(stack=5),
                                               rgb_diff=dict(diff=5, source='rgb')))

    Args:
        ops (dict): output key → op (above).
        as_clip (bool): the segments form one clip (3D networks); default one frame per clip.

    Raises:
        KeyError: a missing source key. ValueError: a segment shorter than asked (names it).
    """

    def __init__(self, ops: Dict[str, Union[str, dict]], as_clip: bool = False) -> None:
        self.ops = dict(ops)
        self.as_clip = bool(as_clip)
        for k, op in self.ops.items():
            if not (op == 'center' or (isinstance(op, dict) and (set(op) == {'stack'} or set(
                    op) in ({'diff'}, {'diff', 'source'})))):
                raise ValueError(f'FramesToSegments: bad op for {k!r}: {op!r} (use "center", '
                                 'dict(stack=k) or dict(diff=k, source=...))')

    def transform(self, results: dict) -> dict:
        num_clips = int(results.get('num_clips', 1))
        out = {}
        order = sorted(self.ops, key=lambda k: not (isinstance(self.ops[k], dict) and
                                                    'diff' in self.ops[k]))
        for key in order:
            op = self.ops[key]
            src = op.get('source', key) if isinstance(op, dict) else key
            if src not in results:
                raise KeyError(f'FramesToSegments: {src!r} not in results (load it first)')
            arr = np.asarray(results[src])
            seg = arr.reshape((num_clips, -1) + arr.shape[1:])  # [N, L, H, W, C]
            length = seg.shape[1]
            if op == 'center':
                out[key] = seg[:, length // 2]
                continue
            k = op.get('stack', op.get('diff'))
            need = k + 1 if 'diff' in op else k
            if length < need:
                raise ValueError(f'FramesToSegments: {key!r} needs {need} frames per segment, '
                                 f'the clips have {length}')
            if 'diff' in op:
                seg = np.diff(seg[:, :need].astype(np.float32), axis=1)
            else:
                seg = seg[:, :k]
            n, kk, h, w, c = seg.shape
            out[key] = np.ascontiguousarray(seg.transpose(0, 2, 3, 1, 4).reshape(n, h, w, kk * c))
        results.update(out)
        if self.as_clip:
            results['num_clips'], results['clip_len'] = 1, num_clips
        else:
            results['clip_len'] = 1
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(ops={self.ops}, as_clip={self.as_clip})'
