"""Distillation at an intermediate layer changes only the student (and its projection)."""
import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import LabelData
from tiny_models import tiny_swin

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample


def recognizer3d(embed_dims=8):
    backbone = tiny_swin(3)
    backbone['arch'] = dict(embed_dims=embed_dims, depths=[1, 1], num_heads=[1, 1])
    return dict(type='Recognizer3D', backbone=backbone,
                cls_head=dict(type='I3DHead', in_channels=2 * embed_dims, num_classes=5),
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.] * 3,
                                       std=[64.] * 3, format_shape='NCTHW'))


def batch(n=2):
    g = torch.Generator().manual_seed(0)
    samples = []
    for i in range(n):
        ds = ActionDataSample()
        ds.gt_labels = LabelData(item=torch.tensor([i % 5]))
        samples.append(ds)
    return dict(inputs=dict(rgb=[torch.randint(0, 256, (1, 3, 4, 16, 16), generator=g).float()
                                 for _ in range(n)]), data_samples=samples)


def build(projection=True):
    torch.manual_seed(0)
    return MODELS.build(dict(
        type='DistillRecognizer', student=recognizer3d(8), teacher=recognizer3d(16),
        teacher_ckpt=None, student_modality='rgb', teacher_modality='rgb',
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=10.0, loss_weight=1.0)),
        feature_distill=dict(loss_feat=dict(
            student_layer='backbone.layers.1', teacher_layer='backbone.layers.1',
            loss=dict(type='LogitMSE', loss_weight=2.0),
            projection=dict(in_channels=16, out_channels=32) if projection else None,
            channel_dim=-1))))  # Swin stages output [B, T, H, W, C]


def test_feature_loss_value_and_gradients():
    model = build().train()
    data = model.data_preprocessor(copy.deepcopy(batch()), True)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'loss_kd', 'loss_feat'} <= set(losses)

    # Recompute by hand from the two layers' outputs.
    seen = {}
    hs = model.student.backbone.layers[1].register_forward_hook(
        lambda m, a, o: seen.__setitem__('s', o))
    ht = model.teacher.backbone.layers[1].register_forward_hook(
        lambda m, a, o: seen.__setitem__('t', o))
    with torch.no_grad():
        model.teacher.extract_feat(model.teacher.data_preprocessor(
            dict(inputs=data['inputs']['rgb'], data_samples=data['data_samples']))['inputs'])
        model.student.extract_feat(model.student.data_preprocessor(
            dict(inputs=data['inputs']['rgb'], data_samples=data['data_samples']))['inputs'])
    hs.remove(), ht.remove()
    proj = model.feature_distill['loss_feat'].projection
    expected = 2.0 * F.mse_loss(proj(seen['s']), seen['t'])
    assert losses['loss_feat'].item() == pytest.approx(expected.item(), rel=1e-5)

    model.zero_grad()
    losses['loss_feat'].backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert proj.proj.weight.grad is not None and proj.proj.weight.grad.abs().sum() > 0
    assert model.student.backbone.patch_embed.proj.weight.grad.abs().sum() > 0
    # Layers after the distilled one get nothing from this term.
    assert model.student.cls_head.fc_cls.weight.grad is None


def test_projection_in_state_dict_teacher_not():
    keys = build().state_dict().keys()
    assert any(k.startswith('feature_distill.loss_feat.projection') for k in keys)
    assert not any('teacher' in k for k in keys)


def test_shape_mismatch_and_unknown_layer_are_named():
    model = build(projection=False).train()
    data = model.data_preprocessor(copy.deepcopy(batch()), True)
    shapes = r"backbone\.layers\.1.*\(2, 2, 2, 2, 16\).*\(2, 2, 2, 2, 32\)"
    with pytest.raises(ValueError, match=shapes):
        model(**data, mode='loss')
    cfg = dict(type='DistillRecognizer', student=recognizer3d(8), teacher=recognizer3d(8),
               student_modality='rgb', teacher_modality='rgb',
               feature_distill=dict(loss_feat=dict(student_layer='backbone.layer9',
                                                   teacher_layer='backbone.layers.1')))
    with pytest.raises(KeyError, match='backbone.layer9'):
        MODELS.build(cfg)  # the student's layer is checked when the distiller is built
    cfg['feature_distill']['loss_feat'].update(student_layer='backbone.layers.1',
                                               teacher_layer='backbone.layer7')
    model = MODELS.build(cfg)
    with pytest.raises(KeyError, match='backbone.layer7'):
        model.train()  # the teacher's, when the teacher is built (training starts)
