"""Every config of configs/ as its users run it: the best checkpoint is chosen on the metric the
paper reports (a key the config's own evaluator really produces, never mmengine's 'auto' = the
first key, e.g. verb_top1 on EPIC)."""
import fnmatch
import glob
import os.path as osp

import pytest
import torch
from e2e_utils import REPO
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.structures import LabelData

from mmaction.structures import ActionDataSample

ALL_CONFIGS = sorted(p for p in glob.glob(str(REPO / 'configs/**/*.py'), recursive=True)
                     if '/_base_/' not in p)
# the metric each paper ranks its models by
PAPER_METRIC = {'karmma/*epic*.py': ('action_top1', 'greater'),
                'karmma/*ssv2.py': ('top1', 'greater'),
                'mm2rgb/*': ('top1', 'greater'), 'd3d/*probe*': ('EPE', 'less'),
                'd3d/*': ('top1', 'greater'),
                # DMCL / MML: the accuracy of the deliverable network, RGB (DMCL Tab. 1-4,
                # MML Tab. 7); Σ and Φ are logged next to it (Charades is multi-label: mean
                # average precision, MML Tab. 6)
                'mml/*charades*': ('rgb_mAP', 'greater'),
                'mml/toy/flow_sthv2.py': ('flow_top1', 'greater'),  # the independent flow row
                'dmcl/*': ('rgb_top1', 'greater'), 'mml/*': ('rgb_top1', 'greater')}


def rel(path):
    return osp.relpath(path, REPO / 'configs')


def predicted_heads(model):
    """Head names the config's model predicts (``pred_scores.<head>``), or None for the flow
    probe (it predicts an end-point error)."""
    if model['type'] == 'FlowProbeRecognizer':
        return None
    if model['type'] == 'DistillRecognizer':  # evaluated on the student's predictions
        model = model['student']
    if model['type'] == 'MultiModalityNetworks':  # one prediction per member network
        return tuple(model['members'])
    num_classes = model.get('cls_head', {}).get('num_classes')
    return tuple(num_classes) if isinstance(num_classes, dict) else ('item', )


def fake_predictions(heads, n=4, label_heads=None):
    samples = []
    for i in range(n):
        ds = ActionDataSample()
        if heads is None:
            ds.set_field(torch.tensor(0.5 * i), 'pred_epe')
        else:
            ds.pred_scores = LabelData(**{h: torch.softmax(torch.randn(5), 0) for h in heads})
            # several networks of one task (MultiModalityNetworks) share the label 'item'
            labels = heads if label_heads is None else label_heads
            ds.gt_labels = LabelData(**{h: torch.tensor([i % 5]) for h in labels})
        samples.append(ds.to_dict())
    return samples


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=rel)
def test_best_checkpoint_is_the_papers_metric_and_the_evaluator_reports_it(path):
    cfg = Config.fromfile(path)
    hook = cfg.default_hooks.checkpoint
    assert hook.get('save_best') not in (None, 'auto'), f'{rel(path)}: save_best not explicit'
    assert hook.get('rule') in ('greater', 'less'), f'{rel(path)}: no rule'
    expected = next(v for k, v in PAPER_METRIC.items() if fnmatch.fnmatch(rel(path), k))
    assert (hook.save_best, hook.rule) == expected
    # the key is among those the config's val evaluator computes for this model's predictions
    evaluator = Evaluator(cfg.val_evaluator)
    label_heads = ('item', ) if cfg.model['type'] == 'MultiModalityNetworks' else None
    metrics = evaluator.offline_evaluate(fake_predictions(predicted_heads(cfg.model),
                                                          label_heads=label_heads))
    assert hook.save_best in metrics, (rel(path), sorted(metrics))


def test_auto_would_have_picked_verb_top1_on_epic():
    """Why save_best is explicit: the EPIC evaluator's first key is verb_top1."""
    cfg = Config.fromfile(REPO / 'configs/karmma/teacher_epic.py')
    metrics = Evaluator(cfg.val_evaluator).offline_evaluate(fake_predictions(('verb', 'noun')))
    assert list(metrics)[0] == 'verb_top1' and 'action_top1' in metrics


# ---------------------------------------------------------------- published pre-trained weights
# The MMAction2 model-zoo files the paper configs start from (found in open-mmlab/mmaction2:
# configs/recognition/swin/metafile.yml, configs/recognition/timesformer/
# timesformer_spaceOnly_8xb8-8x32x1-15e_kinetics400-rgb.py, configs/recognition/r2plus1d/
# metafile.yml).
MMACTION2_ZOO = 'https://download.openmmlab.com/mmaction/'
SWIN_B_K400 = (MMACTION2_ZOO + 'v1.0/recognition/swin/swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-'
               '30e_kinetics400-rgb/swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-'
               'rgb_20220930-182ec6cc.pth')
SWIN_T_K400 = (MMACTION2_ZOO + 'v1.0/recognition/swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-'
               '30e_kinetics400-rgb/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-'
               'rgb_20220930-241016b2.pth')
VIT_B = MMACTION2_ZOO + 'recognition/timesformer/vit_base_patch16_224.pth'
R2PLUS1D_34_K400 = (MMACTION2_ZOO + 'v2.0/recognition/r2plus1d/r2plus1d_r34_8x8x1_180e_8xb8_'
                    'kinetics400_rgb/r2plus1d_r34_8x8x1_180e_8xb8_kinetics400_rgb_20220812-'
                    '47cfe041.pth')
TINY_SWIN = dict(arch=dict(embed_dims=8, depths=[1, 1], num_heads=[1, 1]), out_indices=(1, ),
                 window_size=(2, 2, 2))


def strings(obj):
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for v in obj.values():
            yield from strings(v)
    elif isinstance(obj, (list, tuple)):
        for v in obj:
            yield from strings(v)


def urls(model):
    return {s[s.index('http'):] for s in strings(model) if 'http' in s}


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=rel)
def test_paper_configs_name_published_checkpoints_toy_configs_none(path):
    cfg = Config.fromfile(path)
    found = urls(cfg.model.to_dict())
    if '/toy/' in path:
        assert not found, f'{rel(path)} would download {found}'
    else:
        assert found <= {SWIN_B_K400, SWIN_T_K400, VIT_B, R2PLUS1D_34_K400}, found
        # ensembles load their members' own checkpoints; STLT on boxes starts from scratch
        # the flow TimeSformer reads an inflated copy of VIT_B made once (see its config)
        if 'baseline_flow' in path:
            assert cfg.model.backbone.pretrained == 'checkpoints/vit_base_patch16_224_flow2ch.pth'
        elif 'dmcl/' in path:  # DMCL §3: every network randomly initialised
            assert not found
        elif 'mml/' in path:  # MML §2.4: ImageNet ResNet-50, then each stage from the last
            text = str(cfg.model.to_dict())
            assert 'torchvision://resnet50' in text or 'member_init' in text, rel(path)
        elif 'mm2rgb/teacher' not in path and 'baseline_boxes' not in path:
            assert found, f'{rel(path)} names no pre-trained checkpoint'


def test_karmma_checkpoint_choices():
    t = Config.fromfile(REPO / 'configs/karmma/teacher_epic.py').model
    assert t.backbones.rgb.init_cfg == dict(type='Pretrained', checkpoint=SWIN_B_K400,
                                            prefix='backbone.')
    for m in ('flow', 'audio'):
        assert t.backbones[m].init_cfg.type == 'InflatedPretrained'
        assert t.backbones[m].init_cfg.checkpoint == SWIN_B_K400
    s = Config.fromfile(REPO / 'configs/karmma/student_ssv2.py').model
    assert s.student.backbones.rgb.init_cfg.checkpoint == SWIN_T_K400
    assert 'init_cfg' not in s.student.backbones.boxes or \
        s.student.backbones.boxes.init_cfg.get('type') != 'Pretrained'  # STLT-9: from scratch
    assert s.teacher.backbones.boxes.init_cfg.checkpoint is None  # no public STLT checkpoint


def recognizer_checkpoint(backbone, path, num_classes=400):
    """A file shaped like an MMAction2 model-zoo recognizer checkpoint (backbone.*, cls_head.*)."""
    state = {f'backbone.{k}': v for k, v in backbone.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.randn(num_classes, 8)
    torch.save(dict(meta=dict(), state_dict=state), path)
    return str(path)


def shrink_karmma(model, ckpt_by_url):
    """Tiny Swin / STLT shapes with the paper config's init_cfgs, URLs → local files."""
    model = model.copy()
    backbones = {}
    for m, bb in model['backbones'].items():
        bb = dict(bb)
        if bb['type'] == 'SwinTransformer3D':
            bb.update(TINY_SWIN)
        elif bb['type'] == 'STLT':
            bb.update(embed_dims=16, num_spatial_layers=1, num_temporal_layers=1, num_heads=2)
        init = bb.get('init_cfg')
        if init and init.get('checkpoint') in ckpt_by_url:
            bb['init_cfg'] = dict(init, checkpoint=ckpt_by_url[init['checkpoint']])
        backbones[m] = bb
    model['backbones'] = backbones
    model['fusion'] = dict(model['fusion'], in_channels={m: 16 for m in backbones},
                           embed_dims=16, num_heads=2)
    model['cls_head'] = dict(model['cls_head'], in_channels=16)
    return model


def test_karmma_teacher_loads_the_k400_swin_into_every_extractor(tmp_path):
    from mmaction.registry import MODELS
    ref = MODELS.build(dict(type='SwinTransformer3D', **TINY_SWIN, pretrained=None,
                            patch_size=(2, 4, 4), in_channels=3))
    ckpt = recognizer_checkpoint(ref, tmp_path / 'swin_b_k400.pth')
    cfg = Config.fromfile(REPO / 'configs/karmma/teacher_epic.py')
    teacher = MODELS.build(shrink_karmma(cfg.model.to_dict(), {SWIN_B_K400: ckpt}))
    teacher.init_weights()  # frozen, and pre-trained: no error
    rgb, flow, audio = (teacher.backbones[m].state_dict() for m in ('rgb', 'flow', 'audio'))
    for k, v in ref.state_dict().items():
        assert torch.equal(rgb[k], v), k
        if k != 'patch_embed.proj.weight':
            assert torch.equal(flow[k], v) and torch.equal(audio[k], v), k
    mean = ref.state_dict()['patch_embed.proj.weight'].mean(1, keepdim=True)
    assert torch.equal(flow['patch_embed.proj.weight'], mean.expand(-1, 2, -1, -1, -1))
    assert torch.equal(audio['patch_embed.proj.weight'], mean)


def test_karmma_ssv2_teacher_without_stlt_checkpoint_raises_with_one_it_loads(tmp_path):
    from mmaction.registry import MODELS
    ref = MODELS.build(dict(type='SwinTransformer3D', **TINY_SWIN, pretrained=None,
                            patch_size=(2, 4, 4), in_channels=3))
    swin = recognizer_checkpoint(ref, tmp_path / 'swin_b_k400.pth')
    cfg = Config.fromfile(REPO / 'configs/karmma/teacher_ssv2.py').model.to_dict()
    teacher = MODELS.build(shrink_karmma(cfg, {SWIN_B_K400: swin}))
    with pytest.raises(ValueError, match=r'boxes \(STLT\).*allow_random_frozen'):
        teacher.init_weights()
    stlt_ref = MODELS.build(dict(shrink_karmma(cfg, {})['backbones']['boxes'], init_cfg=None))
    stlt = recognizer_checkpoint(stlt_ref, tmp_path / 'stlt12.pth')
    cfg['backbones']['boxes']['init_cfg']['checkpoint'] = stlt
    teacher = MODELS.build(shrink_karmma(cfg, {SWIN_B_K400: swin}))
    teacher.init_weights()
    for k, v in stlt_ref.state_dict().items():
        assert torch.equal(teacher.backbones['boxes'].state_dict()[k], v), k


def test_frozen_random_backbones_raise_unless_allowed():
    from tiny_models import tiny_recognizer

    from mmaction.registry import MODELS
    with pytest.raises(ValueError, match=r'rgb \(SwinTransformer3D\), flow .*audio'):
        MODELS.build(tiny_recognizer(frozen=True)).init_weights()
    MODELS.build(dict(tiny_recognizer(frozen=True), allow_random_frozen=True)).init_weights()
    MODELS.build(tiny_recognizer(frozen=False)).init_weights()  # trained backbones: fine


def test_teacher_loaded_from_its_checkpoint_is_not_checked(tmp_path):
    """DistillRecognizer loads a frozen teacher from its own checkpoint: no init_weights, no
    error."""
    from tiny_models import tiny_recognizer

    from mmaction.registry import MODELS
    teacher_cfg = tiny_recognizer(frozen=True)
    teacher = MODELS.build(dict(teacher_cfg, allow_random_frozen=True))
    torch.save(dict(state_dict=teacher.state_dict()), tmp_path / 'teacher.pth')
    model = MODELS.build(dict(type='DistillRecognizer', student=tiny_recognizer(),
                              teacher=teacher_cfg, teacher_ckpt=str(tmp_path / 'teacher.pth'),
                              distill_losses=dict(loss_kd=dict(type='KLDivergence'))))
    model.init_weights()
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v), k


def tiny_r2plus1d(cfg_backbone, pretrained):
    return dict(cfg_backbone, base_channels=8, pretrained=pretrained)


@pytest.mark.parametrize('modality', ['rgb', 'flow'])
def test_d3d_streams_load_the_k400_r2plus1d_backbone(tmp_path, modality):
    from mmaction.registry import MODELS
    cfg = Config.fromfile(REPO / 'configs/d3d/student_sthv2.py').model
    backbone = (cfg.student if modality == 'rgb' else cfg.teacher).backbone.to_dict()
    assert backbone['depth'] == 34
    assert backbone['pretrained'] == f'submodule:backbone.:{R2PLUS1D_34_K400}'
    ref = MODELS.build(tiny_r2plus1d(backbone, None) | dict(in_channels=3))
    ckpt = recognizer_checkpoint(ref, tmp_path / 'r2plus1d_r34_k400.pth')
    net = MODELS.build(tiny_r2plus1d(backbone, f'submodule:backbone.:{ckpt}'))
    net.init_weights()
    own = net.state_dict()
    loaded = [k for k, v in ref.state_dict().items() if k.startswith('layer')]
    assert loaded and all(torch.equal(own[k], ref.state_dict()[k]) for k in loaded)
    conv1 = 'conv1.conv.conv_s.weight'
    assert torch.equal(own[conv1], ref.state_dict()[conv1]) == (modality == 'rgb')


def test_submodule_scheme_errors(tmp_path):
    from mmengine.runner.checkpoint import CheckpointLoader
    torch.save(dict(state_dict={'backbone.w': torch.ones(1), 'cls_head.b': torch.zeros(1)}),
               tmp_path / 'c.pth')
    out = CheckpointLoader.load_checkpoint(f'submodule:backbone.:{tmp_path / "c.pth"}')
    assert list(out) == ['w']
    with pytest.raises(ValueError, match='expected submodule'):
        CheckpointLoader.load_checkpoint('submodule:backbone.')
    with pytest.raises(ValueError, match="no key starts with 'neck.'"):
        CheckpointLoader.load_checkpoint(f'submodule:neck.:{tmp_path / "c.pth"}')


def test_mm2rgb_rgb_timesformer_loads_the_vit_file(tmp_path):
    """The RGB TimeSformer takes MMAction2's ViT-B file (keys without prefix) through its own
    ``pretrained`` loading (divided attention: spatial weights copied to the temporal ones)."""
    from mmaction.registry import MODELS
    cfg = Config.fromfile(REPO / 'configs/mm2rgb/baseline_rgb_sthv2.py').model
    assert cfg.backbone.pretrained == VIT_B
    small = dict(cfg.backbone.to_dict(), embed_dims=16, num_heads=2, num_transformer_layers=1,
                 img_size=32)
    ref = MODELS.build(dict(small, pretrained=None))
    torch.save(ref.state_dict(), tmp_path / 'vit.pth')
    net = MODELS.build(dict(small, pretrained=str(tmp_path / 'vit.pth')))
    net.init_weights()
    for k, v in ref.state_dict().items():
        if 'attentions.1' not in k:
            assert torch.equal(net.state_dict()[k], v), k
