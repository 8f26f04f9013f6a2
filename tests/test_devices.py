"""Device moves reach every module, the frozen teacher's included (CPU: ``meta`` device).

On a GPU, ``Runner.wrap_model`` calls ``model.to(device)``; mmengine's ``BaseModel.to`` records
the device on every data preprocessor it reaches through ``self.apply``. A teacher held outside
the module tree must get the same, or its preprocessor moves each batch back to the CPU while
its weights are on the GPU (the first training step fails). ``meta`` tensors move like CUDA
ones and run the forward pass without data, so these tests reproduce that failure on a CPU.
"""
import copy

import pytest
import torch
from mmengine.model import BaseDataPreprocessor
from tiny_models import tiny_batch, tiny_recognizer, tiny_swin

from mmaction.registry import MODELS

META = torch.device('meta')


def karmma_distiller(**kwargs):
    return dict(type='DistillRecognizer',
                student=tiny_recognizer(align=False, loss_weight=0.7),
                teacher=tiny_recognizer(frozen=True), teacher_ckpt=None,
                distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=0.3)),
                **kwargs)


def rgb_recognizer(in_channels=3):
    mean = [128.] * in_channels
    std = [64.] * in_channels
    return dict(type='Recognizer3D', backbone=tiny_swin(in_channels),
                cls_head=dict(type='I3DHead', in_channels=16, num_classes=3),
                data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW',
                                       mean=mean, std=std))


def ensemble_distiller():
    """RGB student, LogitEnsemble (rgb + flow members) teacher, feature distillation."""
    teacher = dict(type='LogitEnsemble', members=dict(
        rgb=dict(model=rgb_recognizer(3), modality='rgb'),
        flow=dict(model=rgb_recognizer(2), modality='flow')))
    return dict(type='DistillRecognizer', student=rgb_recognizer(3), teacher=teacher,
                student_modality='rgb',
                distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=10., loss_weight=1.)),
                feature_distill=dict(loss_feat=dict(
                    student_layer='backbone', teacher_layer='members.flow.backbone',
                    projection=dict(in_channels=16, out_channels=16))))


def ensemble_batch(batch_size=2):
    from mmengine.structures import LabelData
    batch = tiny_batch(batch_size)
    for i, ds in enumerate(batch['data_samples']):
        ds.gt_labels = LabelData(item=torch.tensor([i % 3]))
    return batch


def preprocessors(model):
    """Every data preprocessor reachable from ``model``, the teacher's included."""
    found = [m for m in model.modules() if isinstance(m, BaseDataPreprocessor)]
    if getattr(model, 'teacher_built', False):
        found += [m for m in model.teacher.modules() if isinstance(m, BaseDataPreprocessor)]
    return found


def tensors(module):
    return list(module.parameters()) + list(module.buffers())


@pytest.mark.parametrize('build', [karmma_distiller, ensemble_distiller])
@pytest.mark.parametrize('teacher_first', [True, False])
def test_to_reaches_teacher_and_its_preprocessors(build, teacher_first):
    model = MODELS.build(build())
    if teacher_first:
        model.build_teacher()
    model.to(META)
    model.train()  # builds the teacher if it was not built yet: it follows the student
    pre = preprocessors(model)
    teacher_pre = [m for m in model.teacher.modules() if isinstance(m, BaseDataPreprocessor)]
    # student + distiller + teacher (one per modality for KARMMA, one per member + own for the
    # ensemble): every one of them says meta.
    assert len(teacher_pre) >= 2
    assert [m.device for m in pre] == [META] * len(pre)
    assert all(t.device == META for t in tensors(model.teacher))
    assert all(t.device == META for t in tensors(model))
    assert not model.teacher.training and model.student.training


@pytest.mark.parametrize('build,batch', [(karmma_distiller, tiny_batch),
                                         (ensemble_distiller, ensemble_batch)])
def test_training_step_runs_on_the_moved_device(build, batch):
    """The whole loss on ``meta``: a preprocessor left on the CPU makes this raise."""
    model = MODELS.build(build()).to(META).train()
    data = model.data_preprocessor(copy.deepcopy(batch(2)), True)
    assert all(x.device == META for x in
               (data['inputs'].values() if isinstance(data['inputs'], dict) else
                [data['inputs']]) for x in (x if isinstance(x, list) else [x]))
    if build is karmma_distiller:
        losses = model(**data, mode='loss')
        assert {'loss_kd'} <= set(losses)
        assert all(v.device == META for k, v in losses.items() if 'loss' in k)
    else:  # MMAction2's heads compute top-k accuracy in numpy: no meta; run the teacher alone
        logits = model.teacher_logits(data['inputs'], data['data_samples'])
        assert logits['item'].shape == (2, 3) and logits['item'].device == META


def test_set_device_records_cuda_on_every_preprocessor():
    """``BaseModel.cuda()`` = ``_set_device(cuda)`` + ``_apply``: the first half, without CUDA."""
    model = MODELS.build(ensemble_distiller())
    model.build_teacher()
    model._set_device(torch.device('cuda', 1))
    pre = preprocessors(model)
    assert len(pre) >= 5 and all(m.device == torch.device('cuda', 1) for m in pre)
    model._set_device(torch.device('cpu'))
    assert all(m.device == torch.device('cpu') for m in preprocessors(model))


def test_teacher_runs_under_the_students_autocast():
    """``--amp``: the runner's autocast context wraps the loss; the teacher runs inside it."""
    model = MODELS.build(karmma_distiller()).train()
    dtypes = {}

    def record(name):
        def hook(module, args, output):
            dtypes[name] = output.dtype
        return hook

    model.teacher.fusion.embed['rgb'].register_forward_hook(record('teacher'))
    model.student.fusion.embed['rgb'].register_forward_hook(record('student'))
    data = model.data_preprocessor(copy.deepcopy(tiny_batch(2)), True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        losses = model(**data, mode='loss')
    assert dtypes == dict(teacher=torch.bfloat16, student=torch.bfloat16)
    assert torch.isfinite(losses['loss_kd'])
    dtypes.clear()
    model(**model.data_preprocessor(copy.deepcopy(tiny_batch(2)), True), mode='loss')
    assert dtypes == dict(teacher=torch.float32, student=torch.float32)


def test_student_evaluates_without_the_teacher_checkpoint(tmp_path):
    """Testing / predicting / exporting never build or load the teacher."""
    cfg = karmma_distiller()
    cfg['teacher_ckpt'] = str(tmp_path / 'deleted_teacher.pth')
    model = MODELS.build(cfg).eval()
    data = model.data_preprocessor(copy.deepcopy(tiny_batch(2)), False)
    out = model(**data, mode='predict')
    assert len(out) == 2 and out[0].pred_scores.verb.shape == (3, )
    model(**data, mode='tensor')
    assert not model.teacher_built
    assert all(k.startswith(('student.', 'distill_losses.', 'data_preprocessor.'))
               for k in model.state_dict())
    # Training needs the teacher: it is loaded when training starts, and its absence is named.
    with pytest.raises(FileNotFoundError, match='deleted_teacher.pth'):
        model.train()


def test_teacher_built_once_and_not_without_distill_losses(tmp_path):
    cfg = karmma_distiller()
    model = MODELS.build(cfg).train()
    teacher = model.teacher
    model.eval().train()
    assert model.teacher is teacher
    cfg.update(distill_losses=None, teacher_ckpt=str(tmp_path / 'absent.pth'))
    model = MODELS.build(cfg).train()  # no distillation loss: nothing needs the teacher
    assert not model.teacher_built


@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
@pytest.mark.gpu
def test_cuda_training_step_karmma_and_ensemble():
    for build, batch in ((karmma_distiller, tiny_batch), (ensemble_distiller, ensemble_batch)):
        model = MODELS.build(build()).cuda().train()
        assert all(m.device.type == 'cuda' for m in preprocessors(model))
        data = model.data_preprocessor(copy.deepcopy(batch(2)), True)
        for amp in (False, True):
            with torch.autocast('cuda', dtype=torch.float16, enabled=amp):
                losses = model(**data, mode='loss')
            total = sum(v for k, v in losses.items() if 'loss' in k)
            total.backward()
            assert total.is_cuda and torch.isfinite(total)


def test_amp_on_cpu_autocasts_teacher_and_student_in_train_step():
    """``tools/train.py --amp`` without CUDA: ``AutocastOptimWrapper`` (bf16) in ``train_step``."""
    from mmaction.registry import OPTIM_WRAPPERS
    model = MODELS.build(karmma_distiller()).train()
    wrapper = OPTIM_WRAPPERS.build(dict(
        type='AutocastOptimWrapper', dtype='bfloat16',
        optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
    dtypes = {}
    model.teacher.fusion.embed['rgb'].register_forward_hook(
        lambda m, a, out: dtypes.__setitem__('teacher', out.dtype))
    model.student.fusion.embed['rgb'].register_forward_hook(
        lambda m, a, out: dtypes.__setitem__('student', out.dtype))
    before = model.student.cls_head.state_dict()
    before = {k: v.clone() for k, v in before.items()}
    log = model.train_step(copy.deepcopy(tiny_batch(2)), wrapper)
    assert dtypes == dict(teacher=torch.bfloat16, student=torch.bfloat16)
    assert torch.isfinite(log['loss'])
    after = model.student.cls_head.state_dict()
    assert any(not torch.equal(before[k], after[k]) for k in before)  # the step updated
    with pytest.raises(ValueError, match='unknown dtype'):
        OPTIM_WRAPPERS.build(dict(type='AutocastOptimWrapper', dtype='bfloat61',
                                  optimizer=torch.optim.SGD(model.parameters(), lr=0.1)))
