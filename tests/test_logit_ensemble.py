import copy

import pytest
import torch
import torch.nn.functional as F
from mmengine.evaluator import Evaluator
from mmengine.structures import LabelData
from tiny_models import tiny_batch, tiny_swin

from mmaction.registry import MODELS
from mmdistill_plugin.models.utils import TeacherCheckpointError

RGB_NORM = dict(mean=[128.] * 3, std=[64.] * 3)
FLOW_NORM = dict(mean=[127.5] * 2, std=[127.5] * 2)


def recognizer3d(in_channels=3, num_classes=5, norm=RGB_NORM):
    return dict(type='Recognizer3D', backbone=tiny_swin(in_channels),
                cls_head=dict(type='I3DHead', in_channels=16, num_classes=num_classes),
                data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                                       **norm))


def save_member(tmp_path, name, cfg, seed):
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    path = tmp_path / f'{name}.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), path)
    return str(path)


def set_labels(batch):
    """Single-head labels (MMAction2's ``item``): sample i has class i."""
    for i, ds in enumerate(batch['data_samples']):
        ds.gt_labels = LabelData(item=torch.tensor([i]))


def manual_logits(cfg, ckpt, inputs, mean, std):
    """A member run on its own, with the normalisation written out by hand."""
    model = MODELS.build(cfg).eval()
    model.load_state_dict(torch.load(ckpt, weights_only=False)['state_dict'])
    x = torch.stack(inputs)  # [B, N, C, T, H, W]
    x = (x - torch.tensor(mean).view(-1, 1, 1, 1)) / torch.tensor(std).view(-1, 1, 1, 1)
    with torch.no_grad():
        feats, _ = model.extract_feat(x, test_mode=True)
        scores = model.cls_head(feats)
    return scores.view(x.shape[0], -1, scores.shape[-1]).mean(1)


@pytest.fixture
def members(tmp_path):
    rgb, flow = recognizer3d(3), recognizer3d(2, norm=FLOW_NORM)
    return dict(
        rgb=dict(model=rgb, checkpoint=save_member(tmp_path, 'rgb', rgb, 1), modality='rgb'),
        flow=dict(model=flow, checkpoint=save_member(tmp_path, 'flow', flow, 2),
                  modality='flow'))


def ensemble_inputs(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    return data['inputs'], data['data_samples']


def test_weighted_mean_of_members_run_separately(members):
    model = MODELS.build(dict(type='LogitEnsemble', members=members,
                              weights=dict(rgb=3.0, flow=1.0)))
    assert model.weights == dict(rgb=0.75, flow=0.25)
    batch = tiny_batch(2)
    inputs, samples = ensemble_inputs(model, batch)
    out = model.forward_logits(inputs, samples)
    assert set(out) == {'item'} and out['item'].shape == (2, 5)
    z_rgb = manual_logits(members['rgb']['model'], members['rgb']['checkpoint'],
                          batch['inputs']['rgb'], **RGB_NORM)
    z_flow = manual_logits(members['flow']['model'], members['flow']['checkpoint'],
                           batch['inputs']['flow'], **FLOW_NORM)
    assert torch.allclose(out['item'], 0.75 * z_rgb + 0.25 * z_flow, atol=1e-5)
    # Uniform by default: the plain mean; already-stacked inputs give the same.
    uniform = MODELS.build(dict(type='LogitEnsemble', members=members))
    stacked = {m: torch.stack(v) for m, v in batch['inputs'].items()}
    assert torch.allclose(uniform.forward_logits(stacked, samples)['item'],
                          (z_rgb + z_flow) / 2, atol=1e-5)


def test_each_member_uses_its_own_normalisation(tmp_path):
    norm_a = dict(mean=[128.] * 3, std=[64.] * 3)
    norm_b = dict(mean=[10., 20., 30.], std=[100., 50., 25.])
    cfg_a, cfg_b = recognizer3d(norm=norm_a), recognizer3d(norm=norm_b)
    ckpt = save_member(tmp_path, 'shared', cfg_a, 3)  # same weights, different preprocessing
    model = MODELS.build(dict(
        type='LogitEnsemble',
        members=dict(a=dict(model=cfg_a, checkpoint=ckpt, modality='rgb'),
                     b=dict(model=cfg_b, checkpoint=ckpt, modality='rgb'))))
    batch = tiny_batch(2)
    inputs, samples = ensemble_inputs(model, batch)
    z_a = manual_logits(cfg_a, ckpt, batch['inputs']['rgb'], **norm_a)
    z_b = manual_logits(cfg_b, ckpt, batch['inputs']['rgb'], **norm_b)
    assert not torch.allclose(z_a, z_b, atol=1e-3)
    assert torch.allclose(model.member_logits('a', inputs, samples)['item'], z_a, atol=1e-5)
    assert torch.allclose(model.member_logits('b', inputs, samples)['item'], z_b, atol=1e-5)
    assert torch.allclose(model.forward_logits(inputs, samples)['item'], (z_a + z_b) / 2,
                          atol=1e-5)


def test_frozen_eval_no_grad_and_teacher_of_distiller(members):
    model = MODELS.build(dict(type='LogitEnsemble', members=members))
    model.train()
    assert not model.training
    assert all(not m.training for m in model.modules())
    assert all(not p.requires_grad for p in model.parameters())
    inputs, samples = ensemble_inputs(model, tiny_batch(2))
    assert not model.forward_logits(inputs, samples)['item'].requires_grad
    # As DistillRecognizer's teacher: the student alone gets gradients.
    distiller = MODELS.build(dict(
        type='DistillRecognizer', student=recognizer3d(3),
        teacher=dict(type='LogitEnsemble', members=members), student_modality='rgb',
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=10.0, loss_weight=1.0))))
    distiller.train()
    assert not distiller.teacher.training
    batch = tiny_batch(2)
    set_labels(batch)
    data = distiller.data_preprocessor(copy.deepcopy(batch), True)
    losses = distiller(**data, mode='loss')
    assert {'loss_cls', 'loss_kd'} <= set(losses)
    (losses['loss_cls'] + losses['loss_kd']).backward()
    assert all(p.grad is None for p in distiller.teacher.parameters())
    assert distiller.student.cls_head.fc_cls.weight.grad is not None


def test_bad_member_checkpoint_names_member_and_keys(tmp_path, members):
    bad = copy.deepcopy(members)
    bad['flow']['checkpoint'] = members['rgb']['checkpoint']  # 3-channel weights, 2-ch model
    with pytest.raises(TeacherCheckpointError) as err:
        MODELS.build(dict(type='LogitEnsemble', members=bad))
    msg = str(err.value)
    assert "member 'flow'" in msg and 'backbone.patch_embed.proj.weight' in msg
    assert 'shape' in msg
    bad['flow']['checkpoint'] = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match=r"member 'flow'[\s\S]*nope.pth"):
        MODELS.build(dict(type='LogitEnsemble', members=bad))


def test_build_errors(members):
    bad = copy.deepcopy(members)
    bad['flow']['model'] = recognizer3d(2, num_classes=7, norm=FLOW_NORM)
    bad['flow']['checkpoint'] = None
    with pytest.raises(ValueError, match='class counts'):
        MODELS.build(dict(type='LogitEnsemble', members=bad))
    with pytest.raises(ValueError, match='weights'):
        MODELS.build(dict(type='LogitEnsemble', members=members, weights=dict(rgb=1.0)))


def test_predict_and_val_step_accuracy(members):
    model = MODELS.build(dict(type='LogitEnsemble', members=members))
    batch = tiny_batch(2)
    set_labels(batch)
    inputs, samples = ensemble_inputs(model, batch)
    logits = model.forward_logits(inputs, samples)['item']
    out = model.test_step(copy.deepcopy(batch))  # what a val/test loop calls
    for i, ds in enumerate(out):
        assert torch.allclose(ds.pred_scores.item, F.softmax(logits[i], -1), atol=1e-6)
        assert ds.pred_labels.item.item() == logits[i].argmax().item()
    evaluator = Evaluator(dict(type='AccMetric'))
    evaluator.process(out, batch)
    expected = sum(int(logits[i].argmax() == i) for i in range(2)) / 2
    assert evaluator.evaluate(2)['acc/top1'] == pytest.approx(expected)
