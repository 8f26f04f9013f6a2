"""Consistent crop / flip / resize across rgb, flow and boxes."""
import numpy as np
import pytest

import mmdistill_plugin  # noqa: F401
from mmaction.registry import TRANSFORMS


def _sample(h=40, w=60, t=3, flow_scale=1):
    rng = np.random.RandomState(0)
    rgb = rng.randint(0, 256, (t, h, w, 3)).astype(np.uint8)
    fh, fw = h // flow_scale, w // flow_scale
    flow = rng.randint(0, 256, (t, fh, fw, 2)).astype(np.uint8)
    boxes = np.zeros((t, 3, 6), np.float32)
    boxes[:, 0] = (0.1, 0.2, 0.5, 0.6, 1, 1)
    boxes[:, 1] = (0.0, 0.0, 0.05, 0.05, 2, 1)  # near the top-left corner
    return dict(rgb=rgb, flow=flow, boxes=boxes, img_shape=(h, w))


def _build(**cfg):
    return TRANSFORMS.build(cfg)


def test_random_resized_crop_consistent():
    np.random.seed(1)
    import random
    random.seed(1)
    s = _sample()
    orig = {k: v.copy() for k, v in s.items() if isinstance(v, np.ndarray)}
    out = _build(type='MultimodalRandomResizedCrop', area_range=(0.3, 0.5))(s)
    l, t, r, b = out['crop_bbox']
    assert (r - l) * (b - t) < 60 * 40
    np.testing.assert_array_equal(out['rgb'], orig['rgb'][:, t:b, l:r])
    np.testing.assert_array_equal(out['flow'], orig['flow'][:, t:b, l:r])
    assert out['img_shape'] == (b - t, r - l)
    # boxes renormalised to the crop, clipped, zero-area ones invalid
    x1, y1, x2, y2 = np.array([0.1 * 60, 0.2 * 40, 0.5 * 60, 0.6 * 40])
    exp = np.clip([(x1 - l) / (r - l), (y1 - t) / (b - t), (x2 - l) / (r - l),
                   (y2 - t) / (b - t)], 0, 1)
    if exp[2] > exp[0] and exp[3] > exp[1]:
        np.testing.assert_allclose(out['boxes'][:, 0, :4], np.tile(exp, (3, 1)), atol=1e-6)
        assert (out['boxes'][:, 0, 4:] == (1, 1)).all()
    else:
        assert (out['boxes'][:, 0] == 0).all()


def test_center_crop_boxes_exact_and_invalidated():
    s = _sample()
    out = _build(type='MultimodalCenterCrop', crop_size=(30, 20))(s)  # (w, h)
    assert out['rgb'].shape == (3, 20, 30, 3) and out['flow'].shape == (3, 20, 30, 2)
    assert out['crop_bbox'].tolist() == [15, 10, 45, 30]
    # object box 6..30 x 8..24 px -> crop 15..45 x 10..30
    np.testing.assert_allclose(out['boxes'][0, 0], [0, 0, 15 / 30, 14 / 20, 1, 1], atol=1e-6)
    assert (out['boxes'][:, 1] == 0).all()  # corner box falls outside: invalid, zeroed
    assert (out['boxes'][:, 2] == 0).all()


def test_crop_scales_to_lower_resolution_flow():
    s = _sample(h=40, w=60, flow_scale=2)
    orig_flow = s['flow'].copy()
    out = _build(type='MultimodalCenterCrop', crop_size=(30, 20))(s)
    assert out['rgb'].shape[1:3] == (20, 30) and out['flow'].shape[1:3] == (10, 15)
    np.testing.assert_array_equal(out['flow'], orig_flow[:, 5:15, 8:23])


def test_flip_flow_and_boxes_exact():
    s = _sample()
    orig = {k: v.copy() for k, v in s.items() if isinstance(v, np.ndarray)}
    out = _build(type='MultimodalFlip', flip_ratio=1.0)(s)
    assert out['flip'] is True
    np.testing.assert_array_equal(out['rgb'], orig['rgb'][:, :, ::-1])
    np.testing.assert_array_equal(out['flow'][..., 0], 255 - orig['flow'][:, :, ::-1, 0])
    np.testing.assert_array_equal(out['flow'][..., 1], orig['flow'][:, :, ::-1, 1])
    np.testing.assert_allclose(out['boxes'][:, 0], np.tile([0.5, 0.2, 0.9, 0.6, 1, 1], (3, 1)),
                               atol=1e-6)
    np.testing.assert_allclose(out['boxes'][:, 1],
                               np.tile([0.95, 0.0, 1.0, 0.05, 2, 1], (3, 1)), atol=1e-6)
    assert (out['boxes'][:, 2] == 0).all()  # padding slot stays zero
    s2 = _sample()
    assert _build(type='MultimodalFlip', flip_ratio=0.0)(s2)['flip'] is False
    np.testing.assert_array_equal(s2['flow'], orig['flow'])


def test_mmaction_flip_on_interleaved_flow():
    """MMAction2's Flip(modality='Flow') is right for its own interleaved x, y layout."""
    from mmaction.datasets.transforms import Flip
    rng = np.random.RandomState(0)
    x, y = rng.randint(0, 256, (2, 8, 10)).astype(np.uint8)
    res = Flip(flip_ratio=1.0)(dict(imgs=[x.copy(), y.copy()], modality='Flow',
                                    img_shape=(8, 10)))
    np.testing.assert_array_equal(res['imgs'][0], 255 - x[:, ::-1])
    np.testing.assert_array_equal(res['imgs'][1], y[:, ::-1])


def test_resize_keep_ratio_and_fixed():
    s = _sample(h=40, w=60, flow_scale=2)
    out = _build(type='MultimodalResize', scale=(-1, 20))(s)
    assert out['rgb'].shape == (3, 20, 30, 3) and out['flow'].shape == (3, 20, 30, 2)
    assert out['img_shape'] == (20, 30)
    out = _build(type='MultimodalResize', scale=(16, 16), keep_ratio=False)(out)
    assert out['rgb'].shape == (3, 16, 16, 3) and out['flow'].shape == (3, 16, 16, 2)
    assert out['boxes'].shape == (3, 3, 6)


def test_color_jitter_rgb_only():
    s = _sample()
    flow = s['flow'].copy()
    np.random.seed(0)
    out = _build(type='MultimodalColorJitter')(s)
    assert out['rgb'].shape == (3, 40, 60, 3) and out['rgb'].dtype == np.uint8
    np.testing.assert_array_equal(out['flow'], flow)


def test_no_visual_modality_raises():
    with pytest.raises(KeyError, match='visual'):
        _build(type='MultimodalCenterCrop', crop_size=4)(dict(audio=np.zeros((4, 4))))


def test_color_jitter_changes_pixels_the_same_way_in_every_frame():
    frame = np.random.RandomState(0).randint(0, 256, (40, 60, 3)).astype(np.uint8)
    s = dict(rgb=np.stack([frame] * 3))
    np.random.seed(0)
    out = _build(type='MultimodalColorJitter')(s)['rgb']
    assert (out != frame).mean() > 0.5  # a jitter, not a no-op
    assert all((f == out[0]).all() for f in out)  # one draw for the whole clip
    np.random.seed(0)
    again = _build(type='MultimodalColorJitter')(dict(rgb=np.stack([frame] * 3)))['rgb']
    np.testing.assert_array_equal(out, again)  # seeded: reproducible
    # brightness only, frames of different content: every frame scaled by the same factor
    clip = np.stack([np.full((4, 4, 3), v, np.uint8) for v in (50, 100)])
    np.random.seed(1)
    out = _build(type='MultimodalColorJitter', brightness=0.4, contrast=0, saturation=0,
                 hue=0)(dict(rgb=clip))['rgb'].astype(float)
    b0, b1 = out[0].mean() / 50, out[1].mean() / 100
    assert abs(b0 - b1) < 0.02 and abs(b0 - 1) > 0.01


def test_color_jitter_grayscale_uses_rgb_weights_on_bgr_frames():
    # saturation factor 0 = grayscale with ITU-R 601 weights on R, G, B; rgb is stored BGR, so a
    # pure red pixel (B=0, G=0, R=255) becomes 0.2989 * 255 = 76 (29 if B and R were swapped).
    red = np.zeros((1, 2, 2, 3), np.uint8)
    red[..., 2] = 255
    t = _build(type='MultimodalColorJitter', brightness=(1.0, 1.0), contrast=(1.0, 1.0),
               saturation=(0.0, 0.0), hue=(0.0, 0.0))
    np.testing.assert_array_equal(t(dict(rgb=red))['rgb'], np.full((1, 2, 2, 3), 76, np.uint8))
