"""Every config parses, imports the plugin and builds its model; a user project inherits ours."""
import glob
import os.path as osp

import pytest
from e2e_utils import REPO
from mmengine.config import Config

from mmaction.registry import MODELS

CONFIGS = sorted(glob.glob(str(REPO / 'configs/karmma/**/*.py'), recursive=True))


def build(cfg):
    model = cfg.model.copy()
    if model.get('type') == 'DistillRecognizer':
        model['teacher_ckpt'] = None  # the teacher checkpoint is the user's
    return MODELS.build(model)


def test_config_list_is_complete():
    names = {osp.relpath(c, REPO / 'configs/karmma') for c in CONFIGS}
    for method in ('teacher', 'student', 'baseline', 'baseline_delta'):
        for ds in ('epic', 'ssv2'):
            assert f'{method}_{ds}.py' in names and f'toy/{method}_{ds}.py' in names


@pytest.mark.parametrize('path', CONFIGS, ids=lambda p: osp.relpath(p, REPO / 'configs'))
def test_config_builds(path):
    cfg = Config.fromfile(path)
    assert cfg.custom_imports == dict(imports=['mmdistill_plugin'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmaction'
    if '/toy/' in path or 'baseline' in path:
        # Paper teachers (also inside students) hold Swin-B extractors: build the smaller ones.
        model = build(cfg)
        assert sum(p.numel() for p in model.parameters()) > 0


def test_baseline_with_modality_dropout_ignores_missing_modalities():
    """KARMMA supp. Tab. B.1 "Baseline w/ mod. drop.": dropout p=0.5, missing ones ignored."""
    for path in ('baseline_moddrop_epic.py', 'toy/baseline_moddrop_epic.py'):
        cfg = Config.fromfile(REPO / 'configs/karmma' / path)
        delta = Config.fromfile(REPO / 'configs/karmma' / path.replace('moddrop', 'delta'))
        assert cfg.model.fusion.strategy == 'ignore'
        cfg.model.fusion.strategy = delta.model.fusion.strategy
        assert cfg.model == delta.model and cfg.train_dataloader == delta.train_dataloader
    model = build(Config.fromfile(REPO / 'configs/karmma/toy/baseline_moddrop_epic.py'))
    baseline = build(Config.fromfile(REPO / 'configs/karmma/toy/baseline_epic.py'))
    assert set(model.state_dict()) == set(baseline.state_dict())  # 'none' ↔ 'ignore' swap


def test_paper_settings_are_written_in_the_configs():
    teacher = Config.fromfile(REPO / 'configs/karmma/teacher_epic.py')
    student = Config.fromfile(REPO / 'configs/karmma/student_epic.py')
    t, s = teacher.model, student.model.student
    assert (t.fusion.embed_dims, t.fusion.num_layers, t.fusion.num_heads, t.fusion.attn_drop) \
        == (768, 2, 8, 0.3)
    assert t.neck.theta == 300 and t.frozen_backbones
    assert (t.cls_head.loss_cls.loss_weight, t.align_loss.loss_weight, t.align_loss.tau) \
        == (0.7, 0.3, 0.1)
    assert teacher.optim_wrapper.optimizer.lr == 5e-4
    assert teacher.optim_wrapper.optimizer.weight_decay == 0.05
    assert teacher.optim_wrapper.clip_grad.max_norm == 1.0
    assert teacher.train_dataloader.batch_size == 32 and teacher.train_cfg.max_epochs == 100
    assert (s.fusion.embed_dims, s.fusion.num_layers, s.fusion.attn_drop, s.fusion.strategy) \
        == (384, 1, 0.0, 'B5')
    assert s.cls_head.loss_cls.loss_weight == 0.7
    assert student.model.distill_losses.loss_kd.loss_weight == 0.3
    assert student.optim_wrapper.optimizer.lr == 1e-4
    assert student.optim_wrapper.optimizer.weight_decay == 0.01
    assert student.optim_wrapper.clip_grad.max_norm == 2.0
    assert student.train_dataloader.batch_size == 6
    dropout = [t for t in student.train_dataloader.dataset.pipeline
               if t['type'] == 'ModalityDropout']
    assert dropout and dropout[0]['p'] == 0.5
    warmup, cosine = student.param_scheduler
    assert warmup.end == 10 and warmup.start_factor * 1e-4 == pytest.approx(1e-5)
    assert cosine.eta_min == 1e-5 and cosine.end == 100


def test_user_project_inherits_our_configs(tmp_path):
    """A user's MMAction2 project reuses a config of ours by ``_base_`` and changes it."""
    (tmp_path / 'configs').mkdir()
    user_cfg = tmp_path / 'configs' / 'my_student.py'
    user_cfg.write_text(
        f"_base_ = ['{REPO}/configs/karmma/toy/student_epic.py']\n"
        "model = dict(student=dict(fusion=dict(strategy='B2')),\n"
        "             distill_losses=dict(loss_kd=dict(tau=2.0)))\n"
        "train_dataloader = dict(batch_size=4)\n")
    cfg = Config.fromfile(str(user_cfg))
    assert cfg.custom_imports.imports == ['mmdistill_plugin']
    assert cfg.model.student.fusion.strategy == 'B2'
    assert cfg.model.student.fusion.embed_dims == 32  # inherited from the toy student
    assert cfg.model.distill_losses.loss_kd == dict(type='KLDivergence', tau=2.0, loss_weight=0.3)
    assert cfg.train_dataloader.batch_size == 4
    model = build(cfg)
    assert model.student.fusion.strategy == 'B2'
