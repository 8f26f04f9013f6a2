"""GPU smoke test: the toy teacher → student through the real tools, with and without ``--amp``.

Run on a machine with CUDA::

    python -m pytest tests -m gpu -q

Skipped without CUDA (CI has none). Trains the toy KARMMA teacher for one short epoch, then the
distilled student (frozen teacher held outside the module tree, moved to the GPU with the
student) for one epoch in fp32 and one with ``--amp``, tests the student with ``tools/test.py``,
and, when two GPUs are present, trains the student with ``tools/dist_train.sh ... 2``.
"""
import os
import sys
from pathlib import Path

import pytest
import torch
from e2e_utils import REPO, SHORT, generate_tiny_toy, run_tool

pytestmark = [pytest.mark.gpu,
              pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')]

TRAIN = REPO / 'tools/train.py'
TEST = REPO / 'tools/test.py'
TEACHER = REPO / 'configs/karmma/toy/teacher_epic.py'
STUDENT = REPO / 'configs/karmma/toy/student_epic.py'
ONE_EPOCH = ['train_cfg.max_epochs=1', *SHORT]


@pytest.fixture(scope='module')
def toy_with_teacher(tmp_path_factory):
    """A folder with the tiny toy data and a one-epoch toy teacher trained on the GPU.

    ``MMDISTILL_GPU_TOY_ROOT`` names such a folder already made (``tools/gpu_check.py``'s work
    dir after its ``toy_teacher`` step), read-only here: the check then trains no teacher twice.
    """
    given = os.environ.get('MMDISTILL_GPU_TOY_ROOT')
    if given:
        root = Path(given)
        assert (root / 'work_dirs/toy_teacher_epic/epoch_1.pth').is_file(), given
        return root
    root = tmp_path_factory.mktemp('gpu_smoke')
    generate_tiny_toy(root)
    out = run_tool([TRAIN, TEACHER, '--work-dir', 'work_dirs/toy_teacher_epic', '--seed', '0',
                    '--cfg-options', *ONE_EPOCH], cwd=root)
    assert 'cuda' in (out.stdout + out.stderr).lower()
    return root


@pytest.mark.parametrize('amp', [False, True], ids=['fp32', 'amp'])
def test_student_trains_and_tests_on_one_gpu(toy_with_teacher, amp):
    root = toy_with_teacher
    wd = f'work_dirs/gpu_smoke_student_{"amp" if amp else "fp32"}'
    out = run_tool([TRAIN, STUDENT, '--work-dir', wd, '--seed', '0',
                    *(['--amp'] if amp else []), '--cfg-options', *ONE_EPOCH], cwd=root)
    log = out.stdout + out.stderr
    assert 'loss_kd' in log and 'action_top1' in log
    if amp:
        assert 'AmpOptimWrapper' in log
    ckpt = root / wd / 'epoch_1.pth'
    state = torch.load(ckpt, map_location='cpu', weights_only=False)['state_dict']
    assert not any(k.startswith('teacher') for k in state)
    out = run_tool([TEST, STUDENT, ckpt, '--work-dir', f'{wd}/test'], cwd=root)
    assert 'action_top1' in out.stdout + out.stderr


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason='needs two GPUs')
def test_student_dist_train_two_gpus(toy_with_teacher):
    root = toy_with_teacher
    out = run_tool(['-c', 'import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))',
                    'bash', REPO / 'tools/dist_train.sh', STUDENT, '2', '--work-dir',
                    'work_dirs/student_dist', '--cfg-options', *ONE_EPOCH],
                   cwd=root, env=dict(PORT='29541', PYTHON=sys.executable))
    log = out.stdout + out.stderr
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log, log[-3000:]
    assert (root / 'work_dirs/student_dist/epoch_1.pth').exists()
