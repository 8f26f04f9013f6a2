"""MultiModalityNetworks: joint training of per-modality recognizers, logging, stage init,
inflation and exporting one member."""
import copy
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.structures import LabelData
from tiny_models import tiny_batch, tiny_swin

from mmaction.registry import MODELS
from mmdistill_plugin.models.utils import inflate_input_channels

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools'))
import export_student  # noqa: E402

RGB_NORM = dict(mean=[128.] * 3, std=[64.] * 3)
FLOW_NORM = dict(mean=[127.5] * 2, std=[127.5] * 2)


def recognizer3d(in_channels=3, num_classes=4, norm=RGB_NORM):
    return dict(type='Recognizer3D', backbone=tiny_swin(in_channels),
                cls_head=dict(type='I3DHead', in_channels=16, num_classes=num_classes),
                data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                                       **norm))


def networks(strategy, **kw):
    return dict(type='MultiModalityNetworks',
                members=dict(rgb=recognizer3d(3), flow=recognizer3d(2, norm=FLOW_NORM)),
                strategy=strategy, **kw)


def batch(bs=3):
    data = tiny_batch(bs)
    for i, ds in enumerate(data['data_samples']):
        ds.gt_labels = LabelData(item=torch.tensor([i % 4]))
    return data


def run_loss(model, data):
    data = model.data_preprocessor(copy.deepcopy(data), True)
    return model(**data, mode='loss')


@pytest.mark.parametrize('strategy', [
    dict(type='DMCLLoss', T=2.0, lam=0.5), dict(type='SMCLLoss'), dict(type='CMCLLoss'),
    dict(type='RandomTeacherMCLLoss'), dict(type='IndependentMCLLoss')])
def test_mcl_losses_logged_per_network_and_equal_strategy_on_member_logits(strategy):
    torch.manual_seed(0)
    model = MODELS.build(networks(strategy)).eval()  # no head dropout: two runs must agree
    data = batch()
    torch.manual_seed(5)
    losses = run_loss(model, data)
    assert set(losses) == {'rgb.loss_cls', 'rgb.loss_kd', 'flow.loss_cls', 'flow.loss_kd',
                           'winner_rate.rgb', 'winner_rate.flow'}
    assert float(losses['winner_rate.rgb'] + losses['winner_rate.flow']) == pytest.approx(1.0)
    # the same numbers from the members run one by one and the strategy on their logits
    pre = model.data_preprocessor(copy.deepcopy(data), True)
    logits = torch.stack([model.member_logits(n, pre['inputs'], pre['data_samples'])
                          for n in ('rgb', 'flow')])
    torch.manual_seed(5)
    ref = model.strategy(logits, torch.tensor([0, 1, 2]))
    for i, n in enumerate(('rgb', 'flow')):
        torch.testing.assert_close(losses[f'{n}.loss_cls'], ref['loss_cls'][i])
        torch.testing.assert_close(losses[f'{n}.loss_kd'], ref['loss_kd'][i])


def test_one_optimizer_step_trains_every_member_and_one_state_dict():
    torch.manual_seed(0)
    model = MODELS.build(networks(dict(type='MutualLearningLoss', target='peers')))
    losses = run_loss(model, batch())
    assert 'winner_rate.rgb' not in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    for n in ('rgb', 'flow'):
        assert model.members[n].cls_head.fc_cls.weight.grad.abs().sum() > 0
    keys = model.state_dict().keys()
    assert any(k.startswith('members.rgb.backbone.') for k in keys)
    assert any(k.startswith('members.flow.cls_head.') for k in keys)


def test_predict_gives_every_member_and_test_members_subset():
    torch.manual_seed(0)
    model = MODELS.build(networks(dict(type='DMCLLoss'))).eval()
    data = model.data_preprocessor(copy.deepcopy(batch()), False)
    with torch.no_grad():
        out = model(**data, mode='predict')
    for ds in out:
        assert set(ds.pred_scores.keys()) == {'rgb', 'flow'}
        torch.testing.assert_close(ds.pred_scores.rgb, ds.pred_logits.rgb.softmax(-1))
    model.test_members = ['flow']
    with torch.no_grad():
        out = model(**model.data_preprocessor(copy.deepcopy(batch()), False), mode='predict')
    assert set(out[0].pred_scores.keys()) == {'flow'}


def test_same_modality_members_read_one_key_ml():
    torch.manual_seed(0)
    model = MODELS.build(dict(
        type='MultiModalityNetworks', members=dict(a=recognizer3d(3), b=recognizer3d(3)),
        input_keys=dict(a='rgb', b='rgb'), strategy=dict(type='MutualLearningLoss')))
    losses = run_loss(model, batch())
    assert losses['a.loss_kd'] > 0 and losses['b.loss_kd'] > 0  # differently initialised


def test_multi_label_targets():
    torch.manual_seed(0)
    model = MODELS.build(networks(dict(type='MutualLearningLoss'), multi_label=True))
    data = batch(2)
    data['data_samples'][0].gt_labels = LabelData(item=torch.tensor([0, 3]))
    data['data_samples'][1].gt_labels = LabelData(item=torch.tensor([2]))
    assert model.labels(data['data_samples'], 4).tolist() == [[1, 0, 0, 1], [0, 0, 1, 0]]
    losses = run_loss(model, data)
    assert torch.isfinite(losses['rgb.loss_cls'])
    with torch.no_grad():
        out = model.eval()(**model.data_preprocessor(copy.deepcopy(data), False),
                           mode='predict')
    torch.testing.assert_close(out[0].pred_scores.rgb, out[0].pred_logits.rgb.sigmoid())


def test_build_errors():
    with pytest.raises(ValueError, match='class counts'):
        MODELS.build(dict(type='MultiModalityNetworks', strategy=dict(type='DMCLLoss'),
                          members=dict(rgb=recognizer3d(3), flow=recognizer3d(2, 5))))
    with pytest.raises(ValueError, match='input_keys'):
        MODELS.build(networks(dict(type='DMCLLoss'), input_keys=dict(depth='depth')))


def test_inflation_equals_mml_pseudocode_on_hand_built_kernel():
    w = torch.arange(2 * 3 * 2 * 2, dtype=torch.float).view(2, 3, 2, 2)
    out = inflate_input_channels(w, 10)
    expected = torch.empty(2, 10, 2, 2)
    for i in range(10):  # MML §2.1: W_new[:, i] = (W[:, 1] + W[:, 2] + W[:, 3]) / 3
        expected[:, i] = (w[:, 0] + w[:, 1] + w[:, 2]) / 3
    assert torch.equal(out, expected)
    assert out.shape == (2, 10, 2, 2) and out[0, 0, 0, 0] == 4.0  # (0 + 4 + 8) / 3


def test_stage_init_from_previous_stage_inflates_first_conv(tmp_path):
    # stage 2 (ML: two RGB networks) → stage 3 (MML: rgb + flow), initialised from member a
    torch.manual_seed(1)
    ml = MODELS.build(dict(type='MultiModalityNetworks',
                           members=dict(a=recognizer3d(3), b=recognizer3d(3)),
                           input_keys=dict(a='rgb', b='rgb'),
                           strategy=dict(type='MutualLearningLoss')))
    ckpt = tmp_path / 'ml.pth'
    torch.save(dict(state_dict=ml.state_dict()), ckpt)
    (tmp_path / 'last_checkpoint').write_text(str(ckpt))
    mml = MODELS.build(networks(dict(type='MutualLearningLoss'), member_init=dict(
        rgb=dict(checkpoint=str(ckpt), prefix='members.a.'),
        flow=dict(checkpoint=str(tmp_path), prefix='members.a.'))))  # a work dir works too
    mml.init_weights()
    src = ml.members.a.state_dict()
    for name in ('rgb', 'flow'):
        own = mml.members[name].state_dict()
        for k, v in own.items():
            if k == 'backbone.patch_embed.proj.weight' and name == 'flow':
                assert torch.equal(v, inflate_input_channels(src[k], 2))
            else:
                assert torch.equal(v, src[k]), (name, k)


def test_stage_init_mismatch_names_member(tmp_path):
    other = MODELS.build(recognizer3d(3, num_classes=7))
    torch.save(dict(state_dict=other.state_dict()), tmp_path / 'rgb.pth')
    model = MODELS.build(networks(dict(type='DMCLLoss'), member_init=dict(
        rgb=dict(checkpoint=str(tmp_path / 'rgb.pth')))))
    with pytest.raises(RuntimeError, match="member 'rgb'.*fc_cls"):
        model.init_weights()


def test_export_one_member_as_plain_recognizer(tmp_path):
    torch.manual_seed(0)
    cfg = dict(model=networks(dict(type='DMCLLoss')), default_scope='mmaction',
               custom_imports=dict(imports=['mmdistill_plugin'], allow_failed_imports=False))
    Config(cfg).dump(tmp_path / 'cfg.py')
    model = MODELS.build(cfg['model'])
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=3)), tmp_path / 'ck.pth')
    export_student.main([str(tmp_path / 'cfg.py'), str(tmp_path / 'ck.pth'), '--out',
                         str(tmp_path / 'flow.pth'), '--prefix', 'members.flow.',
                         '--student-key', 'members.flow', '--student-config-out',
                         str(tmp_path / 'flow_cfg.py')])
    plain = Config.fromfile(tmp_path / 'flow_cfg.py')
    assert plain.model.type == 'Recognizer3D' and 'custom_imports' not in plain
    flow = MODELS.build(plain.model)
    flow.load_state_dict(torch.load(tmp_path / 'flow.pth', weights_only=True)['state_dict'])
    for k, v in flow.state_dict().items():
        assert torch.equal(v, model.members.flow.state_dict()[k])


def test_member_init_from_backbone_only_checkpoint_non_strict(tmp_path):
    # e.g. ImageNet / RGB backbone weights for a flow member: MMAction2's ResNet3d, ResNet2Plus1d
    # and ResNetTSM ignore init_cfg (their init_weights reads only `pretrained`), so the member
    # is initialised by member_init (auto inflation, strict=False for a partial checkpoint).
    torch.manual_seed(0)
    rgb = MODELS.build(recognizer3d(3))
    torch.save(dict(state_dict={k: v for k, v in rgb.state_dict().items()
                                if k.startswith('backbone.')}), tmp_path / 'bb.pth')
    model = MODELS.build(networks(dict(type='DMCLLoss'), member_init=dict(
        flow=dict(checkpoint=str(tmp_path / 'bb.pth'), strict=False))))
    head_before = model.members.flow.cls_head.fc_cls.weight.clone()
    model.init_weights()
    own, src = model.members.flow.state_dict(), rgb.state_dict()
    k = 'backbone.patch_embed.proj.weight'
    assert torch.equal(own[k], inflate_input_channels(src[k], 2))
    assert all(torch.equal(own[n], src[n]) for n in own if n.startswith('backbone.') and n != k)
    assert not torch.equal(own['cls_head.fc_cls.weight'], src['cls_head.fc_cls.weight'])
    assert head_before.shape == own['cls_head.fc_cls.weight'].shape
