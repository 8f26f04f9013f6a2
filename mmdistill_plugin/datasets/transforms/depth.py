# Copyright (c) mmdistill contributors.
"""Depth frames: one-channel images loaded like RGB frames (DMCL's third modality)."""
import os.path as osp
from typing import Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ._utils import check_file, set_present, warn_once


@TRANSFORMS.register_module()
class LoadDepthFrames(BaseTransform):
    """Load depth frames ``results['frame_inds']`` (1-based frame numbers, as the RGB loader).

    Files: ``osp.join(results['depth_dir'], tmpl.format(i))`` with ``tmpl`` =
    ``filename_tmpl`` or ``results['depth_filename_tmpl']`` (default ``'{:05d}.png'``; NTU RGB+D
    masked depth: ``'MDepth-{:08d}.png'``), read unchanged (8- or 16-bit PNG). Indices beyond the
    last file are clipped to ``results['total_frames']``.

    Writes ``results['depth']``: ``[T, H, W, 1]`` of the file's dtype (uint8 / uint16; the
    data preprocessor normalises it: e.g. mean 127.5 / std 127.5 for 8 bit), ``img_shape`` when
    unset, and the presence flags. ``allow_missing``: zeros and ``modality_present['depth'] =
    False`` instead of ``FileNotFoundError`` / ``ValueError`` (which name the file).
    """

    def __init__(self, filename_tmpl: str = None, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224)) -> None:
        self.filename_tmpl = filename_tmpl
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)

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
            cache, out = {}, []
            for i in inds.tolist():
                if i not in cache:
                    path = tmpl.format(i)
                    check_file(path, 'depth frame')
                    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
                    if img is None:
                        raise ValueError(f'cannot decode depth frame {path}')
                    if img.ndim == 3:  # a depth map saved as 3 equal channels
                        img = img[..., 0]
                    cache[i] = img
                out.append(cache[i])
            depth = np.stack(out)[..., None]
            present = True
        except (FileNotFoundError, ValueError) as e:
            if not self.allow_missing:
                raise
            warn_once(f'depth:{results["depth_dir"]}', f'LoadDepthFrames: zero-filled: {e}')
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
