"""A distilled student is tested, analysed and exported from its own checkpoint alone.

The toy student config names its teacher (``work_dirs/toy_teacher_epic``); here that directory
does not exist, as on a machine that only received the student checkpoint. ``tools/test.py`` and
the missing-modality evaluation run in-process, the export as a real process.
"""
import pytest
import torch
from conftest import link_toy
from e2e_utils import REPO, call_tool, load_tool, run_tool, tools_test_in_process

CFG = REPO / 'configs/karmma/toy/student_epic.py'
NO_WORKERS = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


@pytest.fixture(scope='module')
def student_ckpt(tmp_path_factory, toy_data):
    """A student checkpoint as training writes it (``student.*`` keys), without training."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS
    root = tmp_path_factory.mktemp('no_teacher')
    link_toy(root, toy_data)
    cfg = Config.fromfile(CFG)
    init_default_scope('mmaction')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    assert not model.teacher_built
    ckpt = root / 'student.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(epoch=1)), ckpt)
    assert not (root / cfg.model.teacher_ckpt).exists()
    return root, ckpt


def test_tools_test_without_teacher_checkpoint(student_ckpt):
    root, ckpt = student_ckpt
    out = tools_test_in_process([CFG, ckpt, '--work-dir', 'work_dirs/t', '--cfg-options',
                                 *NO_WORKERS], cwd=root)
    log = out.stdout + out.stderr
    assert 'action_top1' in log and 'can not be found' not in log


def test_missing_modality_eval_without_teacher_checkpoint(student_ckpt):
    root, ckpt = student_ckpt
    out = call_tool(load_tool('tools/analysis/missing_modality_eval.py').main,
                    ['--model', 'KARMMA_S', CFG, ckpt, '--work-dir', 'work_dirs/mm',
                     '--cfg-options', *NO_WORKERS], cwd=root)
    assert 'V+F+A' in out.stdout and 'KARMMA_S' in out.stdout


def test_export_without_teacher_checkpoint(student_ckpt):
    root, ckpt = student_ckpt
    run_tool([REPO / 'tools/export_student.py', CFG, ckpt, '--out', 'exported.pth'], cwd=root)
    state = torch.load(root / 'exported.pth', weights_only=True)['state_dict']
    assert state and not any(k.startswith(('student.', 'teacher')) for k in state)
