# Copyright (c) mmdistill contributors.
"""Depth frames: one-channel images loaded like RGB frames (DMCL's third modality)."""
import os.path as osp
from typing import Optional, Tuple

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ._utils import read_image, sample_name, set_present, warn_once
from .invariants import DEPTH_DTYPES, single_channel_depth, stack_frames


@TRANSFORMS.register_module()
class LoadDepthFrames(BaseTransform):
    """Load depth frames ``results['frame_inds']`` (1-based frame numbers, as the RGB loader).

    Files: ``osp.join(results['depth_dir'], tmpl.format(i))`` with ``tmpl`` =
    ``filename_tmpl`` or ``results['depth_filename_tmpl']`` (default ``'{:05d}.png'``; NTU RGB+D
    masked depth: ``'MDepth-{:08d}.png'``), read unchanged (8- or 16-bit PNG). Indices beyond the
    last file are clipped to ``results['total_frames']``.

    Writes ``results['depth']``: ``[T, H, W, 1]`` of the file's dtype (uint8 / uint16 — a
    16-bit PNG stays 16-bit — or float32; the data preprocessor normalises it: e.g. mean 127.5 /
    std 127.5 for 8 bit), ``img_shape`` when unset, and the presence flags. Media invariants
    (:mod:`.invariants`): one size and bit depth per clip, one channel (a grey map saved with
    equal colour channels is accepted; differing channels are a colour image), finite float
    depth; a frame breaking one raises ``MediaError`` naming the file. ``allow_missing``: zeros
    and ``modality_present['depth'] = False`` with a warning instead of ``FileNotFoundError`` /
    ``ValueError`` (which name the file). ``backend_args``: ``mmengine.fileio`` backend.
    """

    def __init__(self, filename_tmpl: str = None, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224),
                 backend_args: Optional[dict] = None) -> None:
        self.filename_tmpl = filename_tmpl
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)
        self.backend_args = backend_args

    def transform(self, results: dict) -> dict:
        if 'frame_inds' not in results:
            raise KeyError('results has no "frame_inds": put a sampler before LoadDepthFrames')
        if 'depth_dir' not in results:
            raise KeyError('LoadDepthFrames needs results["depth_dir"] (dataset modality depth)')
        inds = np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)
        if results.get('total_frames'):
            inds = np.clip(inds, 1, int(results['total_frames']))
        tmpl = osp.join(results['depth_dir'], self.filename_tmpl or
                        results.get('depth_filename_tmpl', '{:05d}.png'))
        try:
            cache, out, paths = {}, [], []
            for i in inds.tolist():
                path = tmpl.format(i)
                if i not in cache:
                    img = read_image(path, 'unchanged', 'depth frame', self.backend_args)
                    cache[i] = single_channel_depth(img, path)
                out.append(cache[i])
                paths.append(path)
            depth = stack_frames(out, paths, 'depth', DEPTH_DTYPES, channels=1)[..., None]
            present = True
        except (FileNotFoundError, ValueError) as e:
            if not self.allow_missing:
                raise
            warn_once(f'depth:{results["depth_dir"]}',
                      f'LoadDepthFrames: depth missing for sample {sample_name(results)}, '
                      f'zero-filled: {e}')
            h, w = results.get('img_shape', self.missing_shape)
            depth = np.zeros((len(inds), h, w, 1), np.uint8)
            present = False
        results['depth'] = depth
        results.setdefault('img_shape', depth.shape[1:3])
        set_present(results, 'depth', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(filename_tmpl={self.filename_tmpl!r}, '
                f'allow_missing={self.allow_missing})')
