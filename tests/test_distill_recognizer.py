import copy

import pytest
import torch
from tiny_models import tiny_batch, tiny_recognizer

from mmaction.registry import MODELS
from mmdistill_plugin.models.utils import TeacherCheckpointError


def save_teacher(tmp_path, seed=1, **kwargs):
    torch.manual_seed(seed)
    teacher = MODELS.build(tiny_recognizer(frozen=True, **kwargs))
    path = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta=dict(epoch=3)), path)
    return teacher, str(path)


def distiller_cfg(ckpt, **kwargs):
    return dict(type='DistillRecognizer',
                student=tiny_recognizer(align=False, loss_weight=0.7),
                teacher=tiny_recognizer(frozen=True),
                teacher_ckpt=ckpt,
                distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=0.3)),
                **kwargs)


def train_step_loss(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model(**data, mode='loss')


def test_teacher_frozen_eval_loaded_and_outside_state_dict(tmp_path):
    teacher, ckpt = save_teacher(tmp_path)
    model = MODELS.build(distiller_cfg(ckpt))
    model.train()
    assert not model.teacher.training and model.student.training
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v), k
    assert all(k.startswith(('student.', 'distill_losses.', 'data_preprocessor.'))
               for k in model.state_dict())
    assert not any(p is q for p in model.parameters() for q in model.teacher.parameters())
    # init_weights (called by the runner before training) must not touch the teacher.
    model.init_weights()
    for k, v in teacher.state_dict().items():
        assert torch.equal(model.teacher.state_dict()[k], v), k


def test_losses_logged_and_gradients_reach_student_only(tmp_path):
    _, ckpt = save_teacher(tmp_path)
    model = MODELS.build(distiller_cfg(ckpt)).train()
    losses = train_step_loss(model, tiny_batch(2))
    assert {'loss_cls', 'loss_kd'} <= set(losses)
    assert 'loss_align' not in losses
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
    assert all(p.grad is not None for p in model.student.cls_head.parameters())


def test_teacher_sees_every_modality_student_only_the_mask(tmp_path):
    _, ckpt = save_teacher(tmp_path)
    model = MODELS.build(distiller_cfg(ckpt)).eval()
    masked = tiny_batch(2, mask=dict(rgb=True, flow=False, audio=True))
    zero_flow = copy.deepcopy(masked)
    zero_flow['inputs']['flow'] = [torch.zeros_like(x) for x in zero_flow['inputs']['flow']]

    def logits(batch):
        data = model.data_preprocessor(copy.deepcopy(batch), False)
        return (model.teacher_logits(data['inputs'], data['data_samples'])['verb'],
                model(**data, mode='tensor')['verb'])

    (t1, s1), (t2, s2) = logits(masked), logits(zero_flow)
    assert torch.allclose(s1, s2, atol=1e-6)  # student: flow is dropped
    assert not torch.allclose(t1, t2, atol=1e-6)  # teacher: still sees flow


def test_predict_uses_student(tmp_path):
    _, ckpt = save_teacher(tmp_path)
    model = MODELS.build(distiller_cfg(ckpt)).eval()
    data = model.data_preprocessor(copy.deepcopy(tiny_batch(2)), False)
    out = model(**data, mode='predict')
    s_data = model.student.data_preprocessor(copy.deepcopy(tiny_batch(2)), False)
    ref = model.student(**s_data, mode='predict')
    assert torch.allclose(out[0].pred_scores.verb, ref[0].pred_scores.verb)


def test_teacher_checkpoint_mismatch_names_keys(tmp_path):
    _, ckpt = save_teacher(tmp_path, num_classes=dict(verb=3, noun=5))
    with pytest.raises(TeacherCheckpointError) as err:
        MODELS.build(distiller_cfg(ckpt)).train()  # the teacher is loaded when training starts
    msg = str(err.value)
    assert ckpt in msg and 'cls_head' in msg and 'noun' in msg and 'shape' in msg
    state = torch.load(ckpt, weights_only=False)
    state['state_dict'] = {k: v for k, v in state['state_dict'].items()
                           if not k.startswith('fusion.cls')}
    state['state_dict']['extra.weight'] = torch.zeros(1)
    torch.save(state, ckpt)
    with pytest.raises(TeacherCheckpointError, match=r'missing keys[\s\S]*unexpected keys'):
        MODELS.build(distiller_cfg(ckpt)).train()
    with pytest.raises(FileNotFoundError, match='nope.pth'):
        MODELS.build(distiller_cfg(str(tmp_path / 'nope.pth'))).train()


def test_teacher_from_work_dir_and_prefix(tmp_path):
    teacher, ckpt = save_teacher(tmp_path)
    (tmp_path / 'last_checkpoint').write_text(ckpt)
    model = MODELS.build(distiller_cfg(str(tmp_path)))
    k = next(iter(teacher.state_dict()))
    assert torch.equal(model.teacher.state_dict()[k], teacher.state_dict()[k])
    # A distillation checkpoint (student.* keys) used as a teacher via its prefix.
    student_ckpt = tmp_path / 'distilled.pth'
    torch.save(dict(state_dict={f'student.{k}': v for k, v in teacher.state_dict().items()}),
               student_ckpt)
    model = MODELS.build(distiller_cfg(str(student_ckpt), teacher_ckpt_prefix='student.'))
    assert torch.equal(model.teacher.state_dict()[k], teacher.state_dict()[k])


def test_teacher_has_no_trainable_parameter_and_runs_without_grad(tmp_path):
    _, ckpt = save_teacher(tmp_path)
    model = MODELS.build(distiller_cfg(ckpt)).train()
    assert all(not p.requires_grad for p in model.teacher.parameters())
    assert all(p.requires_grad for p in model.student.parameters() if p.is_floating_point())
    grad_modes = []
    handles = [m.register_forward_hook(
        lambda mod, args, out: grad_modes.append(torch.is_grad_enabled()))
        for m in model.teacher.modules()]  # whichever entry point the distiller calls
    # even a teacher parameter switched back to trainable must not get a graph
    next(model.teacher.parameters()).requires_grad_(True)
    try:
        losses = train_step_loss(model, tiny_batch(2))
    finally:
        for h in handles:
            h.remove()
        next(model.teacher.parameters()).requires_grad_(False)
    assert grad_modes and not any(grad_modes)  # the teacher ran, always under no_grad
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.teacher.parameters())
