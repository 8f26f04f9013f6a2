# Copyright (c) mmdistill contributors.
"""Omnivore baseline: one model on all modalities, one randomly sampled modality per video.

Paper source: multimodal-teacher-rgb-student.txt, Table 1: "Omnivore, trained on all modalities
jointly by randomly sampling a modality for each video during training" (evaluated on RGB
frames; boxes rendered as 2-px coloured rectangles on a white canvas, see :class:`RenderBoxes`;
"trained 3x longer than the other models to account for the random sampling of modalities").
"""
from typing import Dict, Optional, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS


def flow_to_3ch(flow: np.ndarray, fill: Union[str, int] = 0) -> np.ndarray:
    """uint8 flow ``[T, H, W, 2]`` (x, y) -> uint8 ``[T, H, W, 3]`` = ``(x, y, third)``.

    ``third`` is the constant ``fill`` (an int in [0, 255]; 0 as the reference code of the paper,
    which merges EPIC u/v frames with a black ``Image.new('L')`` channel; 127 ~ zero flow) or,
    with ``fill='mean'``, ``(x + y + 1) // 2`` (mean of x and y rounded half up).

    Raises:
        ValueError: ``flow`` is not ``[..., 2]``, or ``fill`` is neither ``'mean'`` nor an int in
            [0, 255].
    """
    flow = np.asarray(flow)
    if flow.ndim != 4 or flow.shape[-1] != 2:
        raise ValueError(f'flow_to_3ch expects flow [T, H, W, 2], got {flow.shape}')
    x = flow[..., 0].astype(np.uint16)
    y = flow[..., 1].astype(np.uint16)
    if isinstance(fill, str):
        if fill != 'mean':
            raise ValueError(f"flow fill must be 'mean' or an int in [0, 255], got {fill!r}")
        third = (x + y + 1) // 2
    else:
        if not 0 <= int(fill) <= 255:
            raise ValueError(f'flow fill must be in [0, 255], got {fill}')
        third = np.full_like(x, int(fill))
    return np.stack([x, y, third], axis=-1).astype(np.uint8)


@TRANSFORMS.register_module()
class SampleOneModality(BaseTransform):
    """Write ONE modality, drawn per sample, as a 3-channel image sequence into ``out_key``.

    Omnivore baseline of multimodal-teacher-rgb-student.txt: a single video model is trained on
    all modalities by randomly sampling one modality for each video during training and is
    evaluated on RGB frames. The pipeline loads every candidate modality (and renders boxes with
    :class:`RenderBoxes`) after the shared spatial transforms; this transform then replaces
    ``results[out_key]`` (``'rgb'``) with the chosen modality converted to an RGB-like uint8
    ``[T, H, W, 3]`` array, so a plain MMAction2 recognizer (``Recognizer3D`` + the
    ``SelectModality`` data preprocessor picking ``inputs['rgb']``) consumes it.

    Conversions (all uint8 ``[T, H, W, 3]``):
        - ``rgb``: unchanged (BGR order, see ``LoadRGBFrames``);
        - ``flow`` ``[T, H, W, 2]``: ``(x, y, fill)`` via :func:`flow_to_3ch` (default
          ``flow_fill=0`` as the paper's reference code, or ``'mean'`` / another constant);
          channels are written in the stored array's order, i.e. slot 0 (B) = x, 1 (G) = y,
          2 (R) = fill; the data preprocessor's ``to_rgb`` then reverses them like rgb's;
        - ``boxes_image``: as rendered by :class:`RenderBoxes` (BGR);
        - any other key holding a ``[T, H, W, 3]`` uint8 array is used as is.
    When the chosen array's ``H, W`` differ from the ``rgb`` array's it is resized (bilinear) to
    the rgb size, so every sample of a batch has the same shape.

    Drawing: training (``test_mode=False``) draws ``m`` with ``np.random.choice`` (numpy's global
    RNG, seeded by mmengine's ``randomness`` / worker seeding, so runs are reproducible) among
    the modalities of ``probs`` whose ``modality_present`` is True (a zero-filled missing
    modality is never chosen; probabilities renormalised over the present ones; when none is
    present, ``test_modality`` is used). ``test_mode=True`` always uses ``test_modality`` and
    draws nothing.

    Writes ``results[out_key]``, ``results['omnivore_modality'] = m`` (packed into the metainfo
    by ``PackMultimodalInputs``'s default ``meta_keys``), and ``modality_present[out_key]`` /
    ``modality_mask[out_key]`` = those of ``m``.

    Args:
        probs (dict): modality -> sampling weight >= 0 (normalised to sum 1). Default uniform
            over ``rgb``, ``flow``, ``boxes_image``.
        out_key (str): where to write the chosen image sequence (default ``'rgb'``).
        test_modality (str): the modality used with ``test_mode=True`` (paper: RGB).
        test_mode (bool): evaluation pipeline (no random draw).
        flow_fill (str | int): third flow channel, see :func:`flow_to_3ch`.

    Raises:
        ValueError: empty / negative / zero-sum ``probs``; a chosen array that is not
            ``[T, H, W, 3]`` (or ``[T, H, W, 2]`` flow) uint8-convertible, or whose ``T``
            differs from rgb's.
        KeyError: a modality of ``probs`` (or ``test_modality``) missing from ``results``
            (add its loader / :class:`RenderBoxes` to the pipeline).
    """

    def __init__(self,
                 probs: Optional[Dict[str, float]] = None,
                 out_key: str = 'rgb',
                 test_modality: str = 'rgb',
                 test_mode: bool = False,
                 flow_fill: Union[str, int] = 0) -> None:
        if probs is None:
            probs = dict(rgb=1 / 3, flow=1 / 3, boxes_image=1 / 3)
        probs = {str(k): float(v) for k, v in dict(probs).items()}
        if not probs or any(v < 0 for v in probs.values()) or sum(probs.values()) <= 0:
            raise ValueError(f'SampleOneModality: probs must be non-empty, >= 0, with a '
                             f'positive sum; got {probs}')
        total = sum(probs.values())
        self.probs = {k: v / total for k, v in probs.items()}
        self.out_key = out_key
        self.test_modality = test_modality
        self.test_mode = bool(test_mode)
        flow_to_3ch(np.zeros((1, 1, 1, 2), np.uint8), flow_fill)  # validate
        self.flow_fill = flow_fill

    def choose(self, results: dict) -> str:
        """The modality for this sample (see class doc for the RNG and presence rules)."""
        if self.test_mode:
            return self.test_modality
        present = results.get('modality_present', {})
        for m in self.probs:
            if m not in results:
                raise KeyError(f'SampleOneModality: modality {m!r} not in results (add its '
                               f'loader, or RenderBoxes for boxes_image, before it)')
        names = [m for m, p in self.probs.items() if p > 0 and present.get(m, True)]
        if not names:
            return self.test_modality
        p = np.array([self.probs[m] for m in names], np.float64)
        return names[int(np.random.choice(len(names), p=p / p.sum()))]

    def convert(self, results: dict, m: str) -> np.ndarray:
        """The uint8 ``[T, H, W, 3]`` image sequence of modality ``m``."""
        if m not in results:
            raise KeyError(f'SampleOneModality: modality {m!r} not in results')
        arr = np.asarray(results[m])
        if m == 'flow' or (arr.ndim == 4 and arr.shape[-1] == 2):
            arr = flow_to_3ch(arr, self.flow_fill)
        if arr.ndim != 4 or arr.shape[-1] != 3:
            raise ValueError(f'SampleOneModality: {m!r} must be [T, H, W, 3] (or [T, H, W, 2] '
                             f'flow), got {arr.shape}')
        arr = arr.astype(np.uint8, copy=False)
        ref = results.get('rgb')
        if m != 'rgb' and isinstance(ref, np.ndarray) and ref.ndim == 4:
            if arr.shape[0] != ref.shape[0]:
                raise ValueError(f'SampleOneModality: {m!r} has {arr.shape[0]} frames, rgb '
                                 f'{ref.shape[0]}')
            h, w = ref.shape[1:3]
            if arr.shape[1:3] != (h, w):
                arr = np.stack([mmcv.imresize(f, (w, h), interpolation='bilinear')
                                for f in arr])
        return np.ascontiguousarray(arr)

    def transform(self, results: dict) -> dict:
        m = self.choose(results)
        results[self.out_key] = self.convert(results, m)
        results['omnivore_modality'] = m
        present = results.setdefault('modality_present', {})
        mask = results.setdefault('modality_mask', {})
        p = bool(present.get(m, True))
        present[self.out_key] = p
        mask[self.out_key] = bool(mask.get(m, p) and p)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(probs={self.probs}, out_key={self.out_key!r}, '
                f'test_modality={self.test_modality!r}, test_mode={self.test_mode}, '
                f'flow_fill={self.flow_fill!r})')
