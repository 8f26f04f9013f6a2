"""RenderBoxes: boxes drawn as 2-px coloured rectangles on a white canvas (Omnivore baseline)."""
import numpy as np
import pytest

from mmdistill_plugin.datasets.transforms import MultimodalFlip, PackMultimodalInputs, RenderBoxes
from mmdistill_plugin.datasets.transforms.render_boxes import box_pixel_span

RED = (0, 0, 255)  # object, BGR
BLUE = (255, 0, 0)  # hand, BGR
WHITE = (255, 255, 255)


def _boxes(rows, t=1, k=None):
    k = k or len(rows)
    b = np.zeros((t, k, 6), np.float32)
    for i, r in enumerate(rows):
        b[:, i] = r
    return b


def _ring(h, w, x1, y1, x2, y2, color, thickness=2):
    """Expected frame: white with an inner ``thickness``-px outline of the pixel box
    ``[x1..x2] x [y1..y2]`` (inclusive)."""
    out = np.full((h, w, 3), 255, np.uint8)
    out[y1:y2 + 1, x1:x2 + 1] = color
    out[y1 + thickness:y2 + 1 - thickness, x1 + thickness:x2 + 1 - thickness] = WHITE
    return out


def test_exact_pixels_of_a_hand_placed_box():
    # 16x16 canvas, box [0.25, 0.75] x [0.25, 0.75]: pixel centres inside -> columns/rows 4..11
    res = RenderBoxes(size=(16, 16)).transform(
        dict(boxes=_boxes([(0.25, 0.25, 0.75, 0.75, 1, 1)], t=2)))
    img = res['boxes_image']
    assert img.dtype == np.uint8 and img.shape == (2, 16, 16, 3)
    expected = _ring(16, 16, 4, 4, 11, 11, RED)
    for t in range(2):
        np.testing.assert_array_equal(img[t], expected)
    # spot checks: corners and edges coloured (2 px), interior and outside white
    for y, x in [(4, 4), (4, 11), (11, 4), (11, 11), (5, 5), (10, 10), (4, 8), (5, 8), (8, 11),
                 (8, 10)]:
        assert tuple(img[0, y, x]) == RED, (y, x)
    for y, x in [(6, 6), (9, 9), (8, 8), (3, 3), (12, 12), (0, 0), (15, 15), (8, 3), (3, 8)]:
        assert tuple(img[0, y, x]) == WHITE, (y, x)


def test_thickness_and_category_colours():
    boxes = _boxes([(0.0, 0.0, 0.5, 0.5, 1, 1), (0.5, 0.5, 1.0, 1.0, 2, 1)])
    img = RenderBoxes(size=(8, 8), thickness=1).transform(dict(boxes=boxes))['boxes_image'][0]
    # object (red) covers pixels 0..3, hand (blue) 4..7
    expected = _ring(8, 8, 0, 0, 3, 3, RED, 1)
    expected[4:8, 4:8] = _ring(8, 8, 4, 4, 7, 7, BLUE, 1)[4:8, 4:8]
    np.testing.assert_array_equal(img, expected)
    # custom colours
    img = RenderBoxes(size=(8, 8), colors=dict(hand=(0, 255, 0))).transform(
        dict(boxes=boxes))['boxes_image'][0]
    assert tuple(img[7, 7]) == (0, 255, 0)
    assert tuple(img[0, 0]) == WHITE  # objects have no colour: not drawn


def test_invalid_and_pad_boxes_are_not_drawn():
    boxes = _boxes([(0.1, 0.1, 0.9, 0.9, 1, 0),   # invalid
                    (0.1, 0.1, 0.9, 0.9, 0, 1),   # pad category
                    (0.0, 0.0, 0.0, 0.0, 0, 0)])  # all-zero slot
    res = RenderBoxes(size=(10, 12)).transform(dict(boxes=boxes))
    assert res['boxes_image'].shape == (1, 10, 12, 3)
    assert (res['boxes_image'] == 255).all()


def test_flipped_box_renders_mirrored():
    rng = np.random.default_rng(0)
    t, k, h, w = 3, 4, 12, 20
    xy = np.sort(rng.random((t, k, 2, 2)), axis=2)  # [.., (lo, hi), (x, y)]
    boxes = np.zeros((t, k, 6), np.float32)
    boxes[..., 0], boxes[..., 2] = xy[..., 0, 0], xy[..., 1, 0]
    boxes[..., 1], boxes[..., 3] = xy[..., 0, 1], xy[..., 1, 1]
    boxes[..., 4] = [1, 1, 1, 2]
    boxes[..., 5] = 1
    boxes[0, 1, 5] = 0
    base = dict(rgb=np.zeros((t, h, w, 3), np.uint8), boxes=boxes, img_shape=(h, w))
    plain = RenderBoxes().transform(dict(base))['boxes_image']
    flipped = MultimodalFlip(flip_ratio=1.0).transform(dict(base))
    assert flipped['flip']
    mirrored = RenderBoxes().transform(flipped)['boxes_image']
    np.testing.assert_array_equal(mirrored, plain[:, :, ::-1])
    assert not (plain == plain[:, :, ::-1]).all()  # the case is not symmetric itself


def test_pixel_span_is_mirror_exact_and_covers_thin_boxes():
    for lo, hi in [(0.0, 1.0), (0.25, 0.75), (0.1, 0.13), (0.5, 0.5), (0.0, 0.0)]:
        a, b = box_pixel_span(lo, hi, 16)
        fa, fb = box_pixel_span(1 - hi, 1 - lo, 16)
        assert (fa, fb) == (15 - b, 15 - a)
        assert 0 <= a <= b <= 15
    assert box_pixel_span(0.0, 1.0, 16) == (0, 15)


def test_presence_modalities_size_and_packing():
    boxes = _boxes([(0.25, 0.25, 0.75, 0.75, 2, 1)], t=4)
    res = dict(boxes=boxes, rgb=np.zeros((4, 6, 8, 3), np.uint8), modalities=('rgb', 'boxes'),
               modality_present=dict(rgb=True, boxes=False),
               modality_mask=dict(rgb=True, boxes=False), num_clips=2, clip_len=2, label=1)
    res = RenderBoxes().transform(res)  # size from the rgb array (no img_shape)
    assert res['boxes_image'].shape == (4, 6, 8, 3)
    assert res['modality_present']['boxes_image'] is False
    assert res['modality_mask']['boxes_image'] is False
    assert res['modalities'] == ('rgb', 'boxes', 'boxes_image')
    packed = PackMultimodalInputs().transform(res)
    assert tuple(packed['inputs']['boxes_image'].shape) == (2, 3, 2, 6, 8)
    assert tuple(packed['inputs']['rgb'].shape) == (2, 3, 2, 6, 8)
    # img_shape wins over the arrays; size wins over img_shape
    res2 = RenderBoxes().transform(dict(boxes=boxes, img_shape=(5, 7)))
    assert res2['boxes_image'].shape == (4, 5, 7, 3)
    assert res2['modality_present']['boxes_image'] is True
    res3 = RenderBoxes(size=(3, 9)).transform(dict(boxes=boxes, img_shape=(5, 7)))
    assert res3['boxes_image'].shape == (4, 3, 9, 3)


def test_errors():
    with pytest.raises(KeyError):
        RenderBoxes(size=(4, 4)).transform(dict())
    with pytest.raises(KeyError):
        RenderBoxes().transform(dict(boxes=np.zeros((1, 1, 6), np.float32)))
    with pytest.raises(ValueError):
        RenderBoxes(size=(4, 4)).transform(dict(boxes=np.zeros((1, 6), np.float32)))
    with pytest.raises(ValueError):
        RenderBoxes(colors=dict(person=(0, 0, 0)))
    with pytest.raises(ValueError):
        RenderBoxes(thickness=0)
