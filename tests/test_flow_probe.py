import copy
import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from tiny_models import tiny_batch, tiny_swin

from mmaction.registry import MODELS
from mmdistill_plugin.models.heads.flow_decoder_probe import (dequantise_flow, encode_flow, epe,
                                                              flow_from_prediction, flow_probe_loss)


def tiny_resnet3d_recognizer():
    return dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=18, base_channels=4, num_stages=2,
                      out_indices=(1, ), pretrained=None, pretrained2d=False,
                      stage_blocks=(1, 1), spatial_strides=(1, 2), temporal_strides=(1, 1),
                      dilations=(1, 1), inflate=(1, 1), conv1_kernel=(1, 3, 3),
                      conv1_stride_t=1, pool1_stride_t=1, with_pool2=False),
        cls_head=dict(type='I3DHead', in_channels=8, num_classes=5),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.] * 3, std=[64.] * 3,
                               format_shape='NCTHW'))


def probe_cfg(mode='frozen', **kwargs):
    cfg = dict(type='FlowProbeRecognizer', recognizer=tiny_resnet3d_recognizer(),
               feature_layer='backbone.layer1', mode=mode,
               decoder=dict(type='FlowDecoderProbe', in_channels=4, channels=(8, 8)))
    cfg.update(kwargs)
    return cfg


def loss_of(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def test_decoder_shape_and_per_frame():
    head = MODELS.build(dict(type='FlowDecoderProbe', in_channels=4, channels=(8, )))
    feat = torch.randn(2, 4, 3, 5, 6)
    out = head(feat, out_size=(10, 12))
    assert out.shape == (2, 3, 3, 10, 12)
    assert head(feat).shape == (2, 3, 3, 5, 6)
    changed = feat.clone()
    changed[:, :, 1] += 1.0  # no temporal conv: other frames are unaffected
    out2 = head(changed, out_size=(10, 12))
    assert torch.equal(out[:, :, [0, 2]], out2[:, :, [0, 2]])
    assert not torch.allclose(out[:, :, 1], out2[:, :, 1])
    with pytest.raises(ValueError, match='expects'):
        head(torch.randn(2, 5, 3, 5, 6))


def test_loss_hand_checked_and_mag_weighting():
    # Two pixels: gt (3, 4) -> (mag 5, sin .8, cos .6); gt (0, 0) -> mag 0 (no angle term).
    gt = torch.tensor([[3., 0.], [4., 0.]]).view(1, 2, 2)
    pred = torch.tensor([[4., 1.], [0.8, 1.], [0., -1.]]).view(1, 3, 2)
    losses = flow_probe_loss(pred, gt)
    assert losses['loss_mag'].item() == pytest.approx((1 + 1) / 2)
    assert losses['loss_sin'].item() == pytest.approx(0.0, abs=1e-6)
    assert losses['loss_cos'].item() == pytest.approx(5 * 0.6 ** 2 / 2)
    head = MODELS.build(dict(type='FlowDecoderProbe', in_channels=1, loss_weight=2.0))
    assert head.loss(pred, gt)['loss_cos'].item() == pytest.approx(5 * 0.6 ** 2)


def test_flow_encoding_epe_and_dequantisation():
    uv = torch.tensor([[3., -2., 0.], [4., 1., 0.]]).view(1, 2, 3)
    assert torch.allclose(flow_from_prediction(encode_flow(uv)), uv, atol=1e-6)
    pred = torch.tensor([[5., 5.], [0.8, 0.8], [0.6, 0.6]]).view(1, 3, 2)  # flow (3, 4)
    gt = torch.tensor([[0., 3.], [0., 0.]]).view(1, 2, 2)
    assert epe(flow_from_prediction(pred), gt).item() == pytest.approx((5 + 4) / 2)
    assert epe(torch.zeros(2, 2, 1, 1), torch.tensor([3., 4., 6., 8.]).view(2, 2, 1, 1),
               per_sample=True).tolist() == pytest.approx([5., 10.])
    assert dequantise_flow(torch.tensor([0., 127.5, 255.])).tolist() == \
        pytest.approx([-20., 0., 20.])
    assert dequantise_flow(torch.tensor([255.]), bound=8).item() == pytest.approx(8.)


def test_frozen_mode_trains_decoder_only():
    model = MODELS.build(probe_cfg('frozen'))
    model.train()
    assert model.training and model.decoder.training and not model.recognizer.training
    losses = loss_of(model, tiny_batch(2))
    assert set(losses) == {'loss_mag', 'loss_sin', 'loss_cos'}
    sum(losses.values()).backward()
    assert all(p.grad is None for p in model.recognizer.parameters())
    assert all(p.grad is not None for p in model.decoder.parameters())


def test_finetune_mode_trains_recognizer():
    model = MODELS.build(probe_cfg('finetune')).train()
    assert model.recognizer.training
    sum(loss_of(model, tiny_batch(2)).values()).backward()
    assert model.recognizer.backbone.conv1.conv.weight.grad is not None
    assert model.recognizer.backbone.layer1[0].conv1.conv.weight.grad is not None


def test_bad_layer_name_lists_candidates():
    with pytest.raises(KeyError, match=r"'backbone.layer3'[\s\S]*backbone.layer1"):
        MODELS.build(probe_cfg(feature_layer='backbone.layer3'))
    with pytest.raises(ValueError, match='mode'):
        MODELS.build(probe_cfg(mode='linear'))


def test_predict_epe_and_metric_swin_channels_last():
    # Swin3D stage 0 output: [B, T/2, H/4, W/4, 8] channels-last; 2 feature frames, 4 flow.
    cfg = probe_cfg(
        recognizer=dict(type='Recognizer3D', backbone=tiny_swin(3),
                        cls_head=dict(type='I3DHead', in_channels=16, num_classes=5),
                        data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.] * 3,
                                               std=[64.] * 3, format_shape='NCTHW')),
        feature_layer='backbone.layers.0', channels_last=True,
        decoder=dict(type='FlowDecoderProbe', in_channels=8, channels=(8, )))
    model = MODELS.build(cfg).eval()
    batch = tiny_batch(2)
    batch['data_samples'][1].set_metainfo(dict(modality_present=dict(rgb=True, flow=False)))
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    pred = model(**data, mode='tensor')
    assert pred.shape == (2, 3, 2, 16, 16)
    out = model(**copy.deepcopy(data), mode='predict')
    gt = dequantise_flow(torch.stack(batch['inputs']['flow']).flatten(0, 1))[:, :, [1, 3]]
    manual = torch.linalg.vector_norm(flow_from_prediction(pred) - gt, dim=1).flatten(1).mean(1)
    assert out[0].pred_epe.item() == pytest.approx(manual[0].item(), rel=1e-5)
    assert math.isnan(out[1].pred_epe.item())  # sample without flow
    evaluator = Evaluator(dict(type='EPEMetric'))
    evaluator.process(out, batch)
    metrics = evaluator.evaluate(2)
    assert metrics['EPE'] == pytest.approx(manual[0].item(), rel=1e-5)
    assert metrics['num_skipped'] == 1


def test_checkpoint_loaded_and_kept_by_init_weights(tmp_path):
    torch.manual_seed(3)
    rec = MODELS.build(tiny_resnet3d_recognizer())
    ckpt = tmp_path / 'rec.pth'
    torch.save(dict(state_dict={f'student.{k}': v for k, v in rec.state_dict().items()}), ckpt)
    model = MODELS.build(probe_cfg(checkpoint=str(ckpt), checkpoint_prefix='student.'))
    model.init_weights()
    for k, v in rec.state_dict().items():
        assert torch.equal(model.recognizer.state_dict()[k], v), k
