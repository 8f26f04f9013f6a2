# Copyright (c) mmdistill contributors.
"""Spatial augmentation applied consistently to every visual modality and to the boxes.

Each transform makes ONE random draw per sample, expressed relative to the reference frame
(``rgb`` if present, else the first visual modality found), and applies it to every array among
``rgb``, ``flow``, ``depth``, ``rgb_diff`` (``[T, H, W, C]``; modalities may have different
resolutions: the crop is scaled to each) and to ``boxes`` (``[T, K, 6]``, normalised coords).

About MMAction2's own ``Flip`` with ``modality='Flow'``: it flips every image and applies
``mmcv.iminvert`` (``255 - x``) to ``imgs[0::2]``, i.e. it is correct only for MMAction2's
interleaved flow layout (``imgs = [x1, y1, x2, y2, ...]`` of single-channel frames, as
``RawFrameDecode`` produces). On our stacked ``[T, H, W, 2]`` flow it would invert both
channels of every other time step, so :class:`MultimodalFlip` does its own ``255 - x`` on
channel 0 only (tested in ``tests/test_transforms_spatial.py``).
"""
from typing import Tuple, Union

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.datasets.transforms import RandomResizedCrop
from mmaction.registry import TRANSFORMS
from ._utils import VISUAL_MODALITIES
from .view import draw


def _visual_keys(results):
    return [k for k in VISUAL_MODALITIES if isinstance(results.get(k), np.ndarray)]


def _ref_shape(results) -> Tuple[int, int]:
    keys = _visual_keys(results)
    if not keys:
        raise KeyError('no visual modality (rgb/flow/depth/rgb_diff) in results')
    return results[keys[0]].shape[1:3]


def _crop_all(results, fx1, fy1, fx2, fy2, crop_boxes=True):
    """Crop every visual modality (and, with ``crop_boxes``, the boxes) to the relative box
    ``[fx1, fx2] x [fy1, fy2]``."""
    for k in _visual_keys(results):
        arr = results[k]
        h, w = arr.shape[1:3]
        # round half up the offset and round the size, so every frame gets the same size
        x1, y1 = int(np.floor(fx1 * w + 0.5)), int(np.floor(fy1 * h + 0.5))
        x2 = min(w, x1 + max(1, int(np.floor((fx2 - fx1) * w + 0.5))))
        y2 = min(h, y1 + max(1, int(np.floor((fy2 - fy1) * h + 0.5))))
        results[k] = np.ascontiguousarray(arr[:, y1:y2, x1:x2])
    boxes = results.get('boxes')
    if crop_boxes and isinstance(boxes, np.ndarray):
        b = boxes.copy()
        valid = b[..., 5] > 0
        sx, sy = fx2 - fx1, fy2 - fy1
        b[..., [0, 2]] = np.clip((b[..., [0, 2]] - fx1) / sx, 0.0, 1.0)
        b[..., [1, 3]] = np.clip((b[..., [1, 3]] - fy1) / sy, 0.0, 1.0)
        keep = valid & (b[..., 2] > b[..., 0]) & (b[..., 3] > b[..., 1])
        b[~keep] = 0.0
        results['boxes'] = b.astype(np.float32)
    results['img_shape'] = _ref_shape(results)


def _record_crop(results, bbox):
    """Update MMAction2-style ``crop_quadruple`` / ``crop_bbox`` bookkeeping."""
    h, w = results['img_shape']
    left, top, right, bottom = bbox
    old = results.get('crop_quadruple', np.array([0, 0, 1, 1], np.float32))
    results['crop_quadruple'] = np.array([
        old[0] + left / w * old[2], old[1] + top / h * old[3],
        (right - left) / w * old[2], (bottom - top) / h * old[3]], np.float32)
    results['crop_bbox'] = np.array(bbox)


@TRANSFORMS.register_module()
class MultimodalResize(BaseTransform):
    """Resize every visual modality to one target size (boxes are normalised: unchanged).

    Args:
        scale (float | tuple[int]): scale factor, or ``(w, h)`` target; with ``keep_ratio`` a
            ``-1`` entry means "no limit" (``(-1, 256)`` = short side 256), as MMAction2's
            ``Resize`` (``mmcv.rescale_size``).
        keep_ratio (bool): keep the aspect ratio of the reference frame.
        interpolation (str): mmcv interpolation name.
    Writes the resized arrays, ``img_shape`` and ``scale_factor`` ``(sx, sy)``.
    """

    def __init__(self, scale: Union[float, Tuple[int, int]], keep_ratio: bool = True,
                 interpolation: str = 'bilinear') -> None:
        if isinstance(scale, float):
            if scale <= 0:
                raise ValueError(f'invalid scale {scale}')
        elif isinstance(scale, (tuple, list)):
            w, h = scale
            if keep_ratio:
                scale = (np.inf if w == -1 else w, np.inf if h == -1 else h)
                if max(scale) == np.inf:
                    scale = (np.inf, min(scale))
        else:
            raise TypeError(f'scale must be float or tuple of int, got {type(scale)}')
        self.scale = scale
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation

    def transform(self, results: dict) -> dict:
        h, w = _ref_shape(results)
        if isinstance(self.scale, float):
            new_w, new_h = mmcv.rescale_size((w, h), self.scale)
        elif self.keep_ratio:
            new_w, new_h = mmcv.rescale_size((w, h), self.scale)
        else:
            new_w, new_h = self.scale
        new_w, new_h = int(new_w), int(new_h)
        for k in _visual_keys(results):
            arr = results[k]
            if arr.shape[1:3] == (new_h, new_w):
                continue
            out = [mmcv.imresize(f, (new_w, new_h), interpolation=self.interpolation)
                   for f in arr]
            out = np.stack(out)
            if out.ndim == arr.ndim - 1:  # cv2 drops a single channel axis
                out = out[..., None]
            results[k] = out.astype(arr.dtype)
        results['scale_factor'] = np.array([new_w / w, new_h / h], np.float32)
        results['img_shape'] = (new_h, new_w)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
                f'interpolation={self.interpolation})')


@TRANSFORMS.register_module()
class MultimodalRandomResizedCrop(BaseTransform):
    """Random crop with area / aspect-ratio ranges (MMAction2's ``RandomResizedCrop.get_crop_bbox``,
    numpy/python global RNGs), the same relative crop for every visual modality and the boxes
    (renormalised, clipped to [0, 1], boxes left with zero area become invalid: all-zero row).
    The box is the view's ``crop_bbox`` draw (replayable, see :mod:`.view`).
    Follow it with :class:`MultimodalResize` to a fixed size, as in MMAction2 configs.
    ``crop_boxes=False`` leaves the boxes in full-frame coordinates (a boxes model trained on
    full-frame layouts then sees the layout it was trained on; see the mm2rgb configs).
    Writes ``crop_bbox`` (pixels of the reference frame), ``crop_quadruple``, ``img_shape``.
    """

    def __init__(self, area_range: Tuple[float, float] = (0.08, 1.0),
                 aspect_ratio_range: Tuple[float, float] = (3 / 4, 4 / 3),
                 crop_boxes: bool = True) -> None:
        self.area_range = tuple(float(a) for a in area_range)
        self.aspect_ratio_range = tuple(float(a) for a in aspect_ratio_range)
        self.crop_boxes = bool(crop_boxes)

    def transform(self, results: dict) -> dict:
        h, w = _ref_shape(results)
        results['img_shape'] = (h, w)
        bbox = draw(results, 'crop_bbox', lambda: [int(v) for v in RandomResizedCrop.get_crop_bbox(
            (h, w), self.area_range, self.aspect_ratio_range)])
        _record_crop(results, bbox)
        l, t, r, b = bbox
        _crop_all(results, l / w, t / h, r / w, b / h, self.crop_boxes)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(area_range={self.area_range}, '
                f'aspect_ratio_range={self.aspect_ratio_range}, crop_boxes={self.crop_boxes})')


@TRANSFORMS.register_module()
class MultimodalCenterCrop(BaseTransform):
    """Center crop of ``crop_size`` (int or ``(w, h)``, pixels of the reference frame) applied
    to every visual modality and the boxes (as :class:`MultimodalRandomResizedCrop`, also its
    ``crop_boxes``)."""

    def __init__(self, crop_size: Union[int, Tuple[int, int]], crop_boxes: bool = True) -> None:
        self.crop_size = (crop_size, crop_size) if isinstance(crop_size, int) \
            else tuple(crop_size)
        self.crop_boxes = bool(crop_boxes)

    def transform(self, results: dict) -> dict:
        h, w = _ref_shape(results)
        results['img_shape'] = (h, w)
        cw, ch = min(self.crop_size[0], w), min(self.crop_size[1], h)
        left, top = (w - cw) // 2, (h - ch) // 2
        bbox = (left, top, left + cw, top + ch)
        _record_crop(results, bbox)
        _crop_all(results, left / w, top / h, (left + cw) / w, (top + ch) / h,
                  self.crop_boxes)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'crop_boxes={self.crop_boxes})')


@TRANSFORMS.register_module()
class MultimodalShiftedCenterCrop(MultimodalCenterCrop):
    """A ``crop_size`` crop "around a randomly shifted center" (DMCL, dmcl.txt §4.2), the same
    for every visual modality and the boxes.

    The box is :class:`MultimodalCenterCrop`'s (MMAction2's ``CenterCrop`` placement,
    ``left = (w − cw) // 2``) moved by ``(dx, dy)`` pixels of the reference frame and clipped to
    stay inside it. With probability ``shift_prob`` the shift is drawn uniformly from the
    integers of ``[−max_shift, max_shift]`` (``dx`` then ``dy``, numpy's global RNG), otherwise
    it is ``(0, 0)``: the DMCL authors' released code resizes frames to 256², then with
    probability 0.5 moves the 224² window's centre by ``U(−16, 16)`` px on each axis (the whole
    slack of 256 − 224), else takes the centre. The shift is the view's ``crop_shift`` draw
    (``[dx, dy]``, replayable, see :mod:`.view`); pixels and boxes are cut as in
    :class:`MultimodalRandomResizedCrop`.

    Args:
        crop_size (int | tuple[int, int]): ``(w, h)`` of the crop in reference-frame pixels.
        max_shift (int): largest shift of the centre per axis, pixels (>= 0).
        shift_prob (float): probability of a shifted (rather than centred) crop, in [0, 1].
        crop_boxes (bool): crop the boxes too (see :class:`MultimodalRandomResizedCrop`).

    Writes ``crop_bbox`` (pixels of the reference frame), ``crop_quadruple``, ``img_shape``.

    Raises:
        ValueError: a negative ``max_shift`` or ``shift_prob`` outside [0, 1].
    """

    def __init__(self, crop_size: Union[int, Tuple[int, int]] = 224, max_shift: int = 16,
                 shift_prob: float = 0.5, crop_boxes: bool = True) -> None:
        super().__init__(crop_size, crop_boxes)
        if max_shift < 0 or not 0.0 <= shift_prob <= 1.0:
            raise ValueError(f'max_shift must be >= 0 and shift_prob in [0, 1], got '
                             f'max_shift={max_shift}, shift_prob={shift_prob}')
        self.max_shift = int(max_shift)
        self.shift_prob = float(shift_prob)

    def _sample_shift(self) -> list:
        if np.random.rand() >= self.shift_prob:
            return [0, 0]
        s = self.max_shift
        return [int(np.random.randint(-s, s + 1)), int(np.random.randint(-s, s + 1))]

    def transform(self, results: dict) -> dict:
        h, w = _ref_shape(results)
        results['img_shape'] = (h, w)
        cw, ch = min(self.crop_size[0], w), min(self.crop_size[1], h)
        dx, dy = draw(results, 'crop_shift', self._sample_shift)
        left = int(np.clip((w - cw) // 2 + dx, 0, w - cw))
        top = int(np.clip((h - ch) // 2 + dy, 0, h - ch))
        bbox = (left, top, left + cw, top + ch)
        _record_crop(results, bbox)
        _crop_all(results, left / w, top / h, (left + cw) / w, (top + ch) / h,
                  self.crop_boxes)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(crop_size={self.crop_size}, '
                f'max_shift={self.max_shift}, shift_prob={self.shift_prob}, '
                f'crop_boxes={self.crop_boxes})')


@TRANSFORMS.register_module()
class MultimodalFlip(BaseTransform):
    """Horizontal flip with probability ``flip_ratio`` (one ``np.random.rand()`` draw per sample)
    of every visual modality and the boxes.

    Flow (uint8 ``[T, H, W, 2]``, x quantised around 127.5) also gets ``x -> 255 - x`` on channel 0
    (the horizontal component changes sign). Valid boxes: ``x1' = 1 - x2``, ``x2' = 1 - x1``.
    Writes ``flip`` (bool, the view's replayable ``flip`` draw) and
    ``flip_direction='horizontal'``.
    """

    def __init__(self, flip_ratio: float = 0.5) -> None:
        self.flip_ratio = flip_ratio

    def transform(self, results: dict) -> dict:
        flip = bool(draw(results, 'flip', lambda: bool(np.random.rand() < self.flip_ratio)))
        results['flip'] = flip
        results['flip_direction'] = 'horizontal'
        if not flip:
            return results
        for k in _visual_keys(results):
            arr = np.ascontiguousarray(results[k][:, :, ::-1])
            if k == 'flow':
                if arr.dtype != np.uint8:
                    raise TypeError('MultimodalFlip expects uint8 flow (x quantised, '
                                    f'127.5 = 0), got {arr.dtype}')
                arr[..., 0] = 255 - arr[..., 0]
            results[k] = arr
        boxes = results.get('boxes')
        if isinstance(boxes, np.ndarray):
            b = boxes.copy()
            valid = b[..., 5] > 0
            x1, x2 = b[..., 0].copy(), b[..., 2].copy()
            b[..., 0] = np.where(valid, 1.0 - x2, 0.0)
            b[..., 2] = np.where(valid, 1.0 - x1, 0.0)
            results['boxes'] = b.astype(np.float32)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(flip_ratio={self.flip_ratio})'


@TRANSFORMS.register_module()
class MultimodalColorJitter(BaseTransform):
    """MMAction2's ``ColorJitter`` applied to ``results['rgb']`` only (other modalities untouched).

    ``rgb`` is stored BGR (see :class:`LoadRGBFrames`); MMAction2's grayscale / hue maths assume
    RGB, so the frames are flipped to RGB and back. The draw is MMAction2's: brightness,
    contrast, saturation and hue factors ``b, c, s, h`` (``np.random.uniform`` in that order) and
    the order of the four operations (``ColorJitter.fn_idx``), recorded as the view's
    ``color_jitter`` draw (replayable, see :mod:`.view`); the operations are MMAction2's
    ``ColorJitter.adjust_*``. Arguments as MMAction2's ``ColorJitter``.
    """

    def __init__(self, brightness=0.5, contrast=0.5, saturation=0.5, hue=0.1) -> None:
        from mmaction.datasets.transforms import ColorJitter
        self.jitter = ColorJitter(brightness, contrast, saturation, hue)

    def _sample(self) -> dict:
        j = self.jitter
        b = float(np.random.uniform(low=j.brightness[0], high=j.brightness[1]))
        c = float(np.random.uniform(low=j.contrast[0], high=j.contrast[1]))
        s = float(np.random.uniform(low=j.saturation[0], high=j.saturation[1]))
        h = float(np.random.uniform(low=j.hue[0], high=j.hue[1]))
        return dict(b=b, c=c, s=s, h=h, order=[int(i) for i in j.fn_idx])

    def apply(self, frames_bgr: np.ndarray, params: dict) -> np.ndarray:
        """Jitter uint8 BGR frames ``[T, H, W, 3]`` with the factors ``params``."""
        j = self.jitter
        out = []
        for img in frames_bgr[..., ::-1]:
            img = img.astype(np.float32)
            for fn_id in params['order']:
                if fn_id == 0 and params['b'] != 1:
                    img *= params['b']
                if fn_id == 1 and params['c'] != 1:
                    img = j.adjust_contrast(img, params['c'])
                if fn_id == 2 and params['s'] != 1:
                    img = j.adjust_saturation(img, params['s'])
                if fn_id == 3 and params['h'] != 0:
                    img = j.adjust_hue(img, params['h'])
            out.append(np.clip(img, 0, 255).astype(np.uint8))
        return np.ascontiguousarray(np.stack(out)[..., ::-1])

    def transform(self, results: dict) -> dict:
        rgb = results.get('rgb')
        if isinstance(rgb, np.ndarray):
            params = draw(results, 'color_jitter', self._sample)
            results['rgb'] = self.apply(rgb, params)
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}({self.jitter!r})'
