# Copyright (c) mmdistill contributors.
"""Render object / hand boxes as coloured rectangles on a white canvas (a video-like modality).

Paper source: multimodal-teacher-rgb-student.txt, Table 1 (Omnivore baseline): "Object detections
+ categories represented as 2px colored bounding boxes pasted on a white canvas, e.g., hand in
blue and object in red."
"""
from typing import Dict, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS
from ._utils import VISUAL_MODALITIES

#: category name -> id in ``results['boxes'][..., 4]`` (docs/data_model.md; 0 = pad).
BOX_CATEGORY_IDS = dict(object=1, hand=2)


def box_pixel_span(lo: float, hi: float, size: int) -> Tuple[int, int]:
    """Inclusive pixel range ``[p_lo, p_hi]`` of the normalised interval ``[lo, hi]``.

    Pixel ``c`` covers ``[c, c+1) / size``; it belongs to the box when its centre ``(c + 0.5) /
    size`` lies in ``[lo, hi]``: ``p_lo = ceil(lo*size - 0.5)``, ``p_hi = floor(hi*size - 0.5)``.
    This rule is mirror-exact: the flipped interval ``[1-hi, 1-lo]`` maps to ``[size-1-p_hi,
    size-1-p_lo]``. An interval thinner than the pixel pitch (``p_hi = p_lo - 1``) covers the two
    pixels it falls between; the result is clipped to ``[0, size-1]``.
    """
    a = int(np.ceil(lo * size - 0.5))
    b = int(np.floor(hi * size - 0.5))
    a, b = min(a, b), max(a, b)
    return max(0, min(a, size - 1)), max(0, min(b, size - 1))


@TRANSFORMS.register_module()
class RenderBoxes(BaseTransform):
    """Draw ``results["boxes"]`` as ``thickness``-px rectangles on white ``[T, H, W, 3]`` canvases.

    Paper: multimodal-teacher-rgb-student.txt (Omnivore baseline, boxes "as 2px colored bounding
    boxes pasted on a white canvas, e.g., hand in blue and object in red").

    Put it AFTER the spatial transforms (``MultimodalRandomResizedCrop`` / ``Resize`` /
    ``CenterCrop`` / ``Flip``): they crop / flip the normalised boxes, and the canvas takes the
    final frame size, so the rendering lines up with the (cropped, flipped) RGB frames.

    Reads ``results['boxes']``: float32 ``[T, K, 6]`` = ``x1, y1, x2, y2`` normalised to [0, 1],
    category id (0 pad, 1 object, 2 hand), valid flag (1/0).

    Writes
        - ``results[out_key]``: uint8 ``[T, H, W, 3]``, channel order BGR like ``rgb`` (so the
          rgb data preprocessor with ``to_rgb=True`` treats it the same way). Background white
          (255, 255, 255); each valid box is a rectangle outline ``thickness`` pixels wide drawn
          INSIDE the box (``thickness`` nested 1-px ``cv2.rectangle`` outlines, shrinking by one
          pixel each), in the colour of its category. Pixel span of a box: see
          :func:`box_pixel_span` (pixel centres inside the box; exact under a horizontal flip).
          Boxes are drawn in slot order (the hand, last slot, ends on top). Invalid boxes (flag
          0) and valid boxes whose category has no colour (e.g. 0 = pad) are not drawn.
        - ``modality_present[out_key] = modality_present['boxes']`` (True when absent) and
          ``modality_mask[out_key] = modality_mask['boxes']`` (default: present), so a video
          without box annotations (``LoadBoxes(allow_missing=True)``) gives a blank canvas that
          is flagged missing.
        - ``out_key`` is appended to ``results['modalities']`` (if that key exists and
          ``add_to_modalities``), so ``PackMultimodalInputs`` packs it like rgb:
          float32 ``[N, 3, T, H, W]``.

    Args:
        out_key (str): results key to write (default ``'boxes_image'``).
        size (tuple[int, int], optional): canvas ``(H, W)``. Default: ``results['img_shape']``
            (the current frame size, set by the loaders and spatial transforms), else the
            ``rgb`` / first visual array's ``H, W``.
        thickness (int): outline width in pixels (paper: 2).
        colors (dict): category name (``'object'``, ``'hand'``) -> BGR colour. Default hand blue
            ``(255, 0, 0)``, object red ``(0, 0, 255)``.
        add_to_modalities (bool): append ``out_key`` to ``results['modalities']``.

    Raises:
        KeyError: ``results`` has no ``boxes``, or no canvas size can be found.
        ValueError: ``boxes`` not ``[T, K, 6]``, bad ``thickness`` / ``size`` / colour names.
    """

    def __init__(self,
                 out_key: str = 'boxes_image',
                 size: Optional[Sequence[int]] = None,
                 thickness: int = 2,
                 colors: Optional[Dict[str, Sequence[int]]] = None,
                 add_to_modalities: bool = True) -> None:
        if colors is None:
            colors = dict(hand=(255, 0, 0), object=(0, 0, 255))
        unknown = set(colors) - set(BOX_CATEGORY_IDS)
        if unknown:
            raise ValueError(f'RenderBoxes: unknown categories {sorted(unknown)} in colors '
                             f'(known: {sorted(BOX_CATEGORY_IDS)})')
        if int(thickness) < 1:
            raise ValueError(f'RenderBoxes: thickness must be >= 1, got {thickness}')
        if size is not None and (len(size) != 2 or min(size) < 1):
            raise ValueError(f'RenderBoxes: size must be (H, W) > 0, got {size}')
        self.out_key = out_key
        self.size = tuple(int(s) for s in size) if size is not None else None
        self.thickness = int(thickness)
        self.colors = {k: tuple(int(c) for c in v) for k, v in colors.items()}
        self._color_by_id = {BOX_CATEGORY_IDS[k]: v for k, v in self.colors.items()}
        self.add_to_modalities = add_to_modalities

    def _canvas_size(self, results: dict) -> Tuple[int, int]:
        if self.size is not None:
            return self.size
        if results.get('img_shape') is not None:
            h, w = results['img_shape'][:2]
            return int(h), int(w)
        for k in VISUAL_MODALITIES:
            if isinstance(results.get(k), np.ndarray):
                return tuple(int(s) for s in results[k].shape[1:3])
        raise KeyError('RenderBoxes needs the canvas size: results["img_shape"], a visual '
                       'modality (rgb/flow/...) or size=(H, W)')

    def render(self, boxes: np.ndarray, h: int, w: int) -> np.ndarray:
        """Render ``[T, K, 6]`` boxes into a uint8 ``[T, h, w, 3]`` array (see class doc)."""
        boxes = np.asarray(boxes, dtype=np.float32)
        if boxes.ndim != 3 or boxes.shape[-1] != 6:
            raise ValueError(f'RenderBoxes expects boxes [T, K, 6], got {boxes.shape}')
        out = np.full((boxes.shape[0], h, w, 3), 255, np.uint8)
        for t in range(boxes.shape[0]):
            frame = out[t]
            for x1, y1, x2, y2, cat, valid in boxes[t]:
                color = self._color_by_id.get(int(round(float(cat))))
                if valid <= 0.5 or color is None:
                    continue
                px1, px2 = box_pixel_span(float(x1), float(x2), w)
                py1, py2 = box_pixel_span(float(y1), float(y2), h)
                for i in range(self.thickness):
                    if px1 + i > px2 - i or py1 + i > py2 - i:
                        break
                    cv2.rectangle(frame, (px1 + i, py1 + i), (px2 - i, py2 - i), color,
                                  thickness=1, lineType=cv2.LINE_8)
        return out

    def transform(self, results: dict) -> dict:
        if 'boxes' not in results:
            raise KeyError('RenderBoxes: results has no "boxes" (add LoadBoxes before it)')
        h, w = self._canvas_size(results)
        results[self.out_key] = self.render(results['boxes'], h, w)
        present = results.setdefault('modality_present', {})
        p = bool(present.get('boxes', True))
        present[self.out_key] = p
        mask = results.setdefault('modality_mask', {})
        mask[self.out_key] = bool(mask.get('boxes', p) and p)
        mods = results.get('modalities')
        if self.add_to_modalities and mods is not None and self.out_key not in mods:
            results['modalities'] = tuple(mods) + (self.out_key, )
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(out_key={self.out_key!r}, size={self.size}, '
                f'thickness={self.thickness}, colors={self.colors}, '
                f'add_to_modalities={self.add_to_modalities})')
