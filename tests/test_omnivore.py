"""Omnivore baseline: SampleOneModality + SelectModality feeding a plain Recognizer3D."""
import numpy as np
import pytest
import torch
from mmengine.dataset import pseudo_collate
from tiny_models import tiny_swin

import mmdistill_plugin.models.data_preprocessors  # noqa: F401  (registers SelectModality)
from mmaction.registry import MODELS
from mmdistill_plugin.datasets.transforms import (PackMultimodalInputs, RenderBoxes,
                                                  SampleOneModality)
from mmdistill_plugin.datasets.transforms.omnivore import flow_to_3ch

T, H, W = 4, 16, 16


def _results(seed=0, label=0, flow_present=True):
    rng = np.random.default_rng(seed)
    boxes = np.zeros((T, 2, 6), np.float32)
    boxes[:, 0] = (0.1, 0.1, 0.5, 0.5, 1, 1)
    boxes[:, 1] = (0.5, 0.5, 0.9, 0.9, 2, 1)
    res = dict(rgb=rng.integers(0, 256, (T, H, W, 3), dtype=np.uint8),
               flow=rng.integers(0, 256, (T, H, W, 2), dtype=np.uint8),
               boxes=boxes, img_shape=(H, W), modalities=('rgb', 'flow', 'boxes'),
               modality_present=dict(rgb=True, flow=flow_present, boxes=True),
               modality_mask=dict(rgb=True, flow=flow_present, boxes=True),
               num_clips=1, clip_len=T, label=label)
    return RenderBoxes().transform(res)


def test_frequencies_match_probs_and_are_reproducible():
    probs = dict(rgb=0.5, flow=0.3, boxes_image=0.2)
    t = SampleOneModality(probs=probs)
    base = _results()
    n = 3000

    def draws():
        return [t.choose(base) for _ in range(n)]

    np.random.seed(0)
    first = draws()
    np.random.seed(0)
    assert draws() == first
    for m, p in probs.items():
        assert abs(first.count(m) / n - p) < 0.03, (m, first.count(m) / n)
    # default: uniform over rgb / flow / boxes_image, each sampled
    np.random.seed(1)
    d = SampleOneModality()
    got = [d.transform(dict(base))['omnivore_modality'] for _ in range(300)]
    assert set(got) == {'rgb', 'flow', 'boxes_image'}
    assert all(abs(got.count(m) / 300 - 1 / 3) < 0.1 for m in set(got))


def test_test_mode_always_rgb_without_drawing():
    t = SampleOneModality(test_mode=True)
    base = _results()
    np.random.seed(3)
    state = np.random.get_state()[1].copy()
    for _ in range(20):
        out = t.transform(dict(base))
        assert out['omnivore_modality'] == 'rgb'
        np.testing.assert_array_equal(out['rgb'], base['rgb'])
    np.testing.assert_array_equal(np.random.get_state()[1], state)


@pytest.mark.parametrize('m', ['rgb', 'flow', 'boxes_image'])
def test_output_has_rgb_shape_for_each_modality(m):
    base = _results()
    out = SampleOneModality(probs={m: 1.0}).transform(dict(base))
    assert out['omnivore_modality'] == m
    assert out['rgb'].dtype == np.uint8 and out['rgb'].shape == (T, H, W, 3)
    if m == 'rgb':
        np.testing.assert_array_equal(out['rgb'], base['rgb'])
    elif m == 'flow':
        np.testing.assert_array_equal(out['rgb'][..., :2], base['flow'])
        assert (out['rgb'][..., 2] == 0).all()
    else:
        np.testing.assert_array_equal(out['rgb'], base['boxes_image'])
    packed = PackMultimodalInputs(modalities=('rgb', )).transform(out)
    assert tuple(packed['inputs']['rgb'].shape) == (1, 3, T, H, W)
    assert packed['data_samples'].metainfo['omnivore_modality'] == m


def test_flow_conversion_exact():
    flow = np.array([[[[10, 201], [127, 128], [0, 255]]]], np.uint8)  # [1, 1, 3, 2]
    np.testing.assert_array_equal(flow_to_3ch(flow)[0, 0],
                                  [[10, 201, 0], [127, 128, 0], [0, 255, 0]])
    np.testing.assert_array_equal(flow_to_3ch(flow, 'mean')[0, 0],
                                  [[10, 201, 106], [127, 128, 128], [0, 255, 128]])
    np.testing.assert_array_equal(flow_to_3ch(flow, 127)[0, 0, :, 2], [127, 127, 127])
    with pytest.raises(ValueError):
        flow_to_3ch(flow, 'max')
    with pytest.raises(ValueError):
        flow_to_3ch(flow[..., :1])


def test_missing_modality_never_sampled_and_resize():
    base = _results(flow_present=False)
    np.random.seed(0)
    t = SampleOneModality(probs=dict(rgb=0.1, flow=0.8, boxes_image=0.1))
    got = {t.transform(dict(base))['omnivore_modality'] for _ in range(50)}
    assert got == {'rgb', 'boxes_image'}
    # a modality at another resolution is resized to the rgb size
    small = dict(base, flow=np.full((T, 8, 8, 2), 200, np.uint8))
    small['modality_present'] = dict(base['modality_present'], flow=True)
    out = SampleOneModality(probs=dict(flow=1.0)).transform(small)
    assert out['rgb'].shape == (T, H, W, 3) and (out['rgb'][..., 0] == 200).all()
    assert out['modality_present']['rgb'] is True
    with pytest.raises(KeyError):
        SampleOneModality(probs=dict(depth=1.0)).transform(dict(base))
    with pytest.raises(ValueError):
        SampleOneModality(probs=dict(rgb=-1.0))


def test_select_modality_feeds_plain_recognizer3d():
    model = MODELS.build(dict(
        type='Recognizer3D', backbone=tiny_swin(3),
        cls_head=dict(type='I3DHead', in_channels=16, num_classes=3),
        data_preprocessor=dict(
            type='SelectModality', modality='rgb',
            preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                              std=[58.395, 57.12, 57.375], to_rgb=True,
                              format_shape='NCTHW'))))
    np.random.seed(0)
    sampler = SampleOneModality()
    pack = PackMultimodalInputs(modalities=('rgb', 'boxes'))
    batch = pseudo_collate([pack.transform(sampler.transform(_results(i, label=i % 3)))
                            for i in range(3)])
    assert isinstance(batch['inputs'], dict)
    data = model.data_preprocessor(batch, True)
    assert tuple(data['inputs'].shape) == (3, 1, 3, T, H, W)
    losses = model(**data, mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    assert model.backbone.patch_embed.proj.weight.grad is not None
    model.eval()
    with torch.no_grad():
        preds = model(**model.data_preprocessor(batch, False), mode='predict')
    assert len(preds) == 3
    with pytest.raises(KeyError):
        model.data_preprocessor(dict(inputs=dict(flow=batch['inputs']['rgb']),
                                     data_samples=batch['data_samples']))
