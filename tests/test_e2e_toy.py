"""The toy jobs through the real tools (train, resume, test, distributed) on a tiny toy set.

The teacher is the session's (``toy_teacher_epic``); training, resuming and one of the two
tests run ``tools/train.py`` / ``tools/test.py``'s code in-process. Real processes: one
``tools/test.py``, the custom_imports error of a fresh interpreter, ``tools/dist_train.sh``
(``tests/test_faults.py`` kills and resumes a real ``tools/train.py``).
"""
import glob
import os
import os.path as osp
import re
import subprocess
import sys

import pytest
import torch
from e2e_utils import REPO, SHORT, run_tool, tools_test_in_process, train_in_process
from mmengine.fileio import load

TRAIN = REPO / 'tools/train.py'
TEST = REPO / 'tools/test.py'


def metrics_of(output):
    """``name: value`` pairs of the last evaluation line in a log."""
    lines = [ln for ln in output.splitlines() if 'action_top1' in ln or ' top1:' in ln]
    assert lines, output[-2000:]
    return {k: float(v) for k, v in re.findall(r'(\w+_top\d|top\d): ([0-9.]+)', lines[-1])}


def test_student_trains_resumes_and_tests(toy_workspace_with_teacher):
    toy_root = toy_workspace_with_teacher
    cfg = REPO / 'configs/karmma/toy/student_epic.py'
    wd = 'work_dirs/toy_student_epic'
    out = train_in_process([cfg, '--work-dir', wd, '--seed', '0', '--cfg-options',
                            'train_cfg.max_epochs=1', *SHORT], cwd=toy_root)
    log = out.stdout + out.stderr
    assert 'loss_kd' in log and 'loss_cls' in log
    assert 'action_top1' in log
    ckpt1 = toy_root / wd / 'epoch_1.pth'
    state = torch.load(ckpt1, map_location='cpu', weights_only=False)['state_dict']
    assert state and all(k.startswith(('student.', 'distill_losses.', 'data_preprocessor.'))
                         for k in state), 'teacher weights leaked into the student checkpoint'

    # --resume continues from epoch 1; the teacher comes from its own checkpoint again.
    out = train_in_process([cfg, '--work-dir', wd, '--resume', '--cfg-options',
                            'train_cfg.max_epochs=2', *SHORT], cwd=toy_root)
    log = out.stdout + out.stderr
    assert 'resumed epoch: 1' in log, log[-3000:]
    assert 'Epoch(train)   [1]' not in log and 'Epoch(train) [2]' in log
    assert (toy_root / wd / 'epoch_2.pth').exists()

    # tools/test.py (a real process) loads the student checkpoint; modalities can be dropped
    # from the CLI (in-process).
    out = run_tool([TEST, cfg, toy_root / wd / 'epoch_2.pth', '--work-dir', 'work_dirs/t',
                    '--dump', 'full.pkl'], cwd=toy_root)
    full = metrics_of(out.stdout + out.stderr)
    assert set(full) >= {'verb_top1', 'noun_top1', 'action_top1', 'action_top5'}
    out = tools_test_in_process([cfg, toy_root / wd / 'epoch_2.pth', '--work-dir', 'work_dirs/t',
                                 '--dump', 'rgb_only.pkl', '--cfg-options',
                                 "model.student.test_cfg.drop_modalities=['flow','audio']"],
                                cwd=toy_root)
    assert set(metrics_of(out.stdout + out.stderr)) == set(full)
    # ... and really drops them: the student's scores change on every sample (the metrics are
    # computed from these scores; on 5 toy samples the rounded accuracies may coincide).
    full_scores, rgb_scores = (torch.stack([r['pred_scores']['verb'] for r in load(toy_root / f)])
                               for f in ('full.pkl', 'rgb_only.pkl'))
    assert full_scores.shape == rgb_scores.shape and len(full_scores) >= 2
    # (a barely trained student moves its scores by ~1e-5; "nothing dropped" gives exactly 0)
    assert ((full_scores - rgb_scores).abs().amax(1) > 1e-6).all()


def test_missing_plugin_import_says_custom_imports(toy_workspace, tmp_path):
    toy_root = toy_workspace
    cfg = tmp_path / 'no_plugin.py'
    cfg.write_text(f"_base_ = ['{REPO}/configs/karmma/toy/baseline_epic.py']\n"
                   "custom_imports = dict(_delete_=True, imports=[], allow_failed_imports=False)\n")
    out = run_tool([TRAIN, cfg, '--work-dir', str(tmp_path / 'wd')], cwd=toy_root, check=False)
    assert out.returncode != 0
    assert 'custom_imports' in out.stderr and 'mmdistill_plugin' in out.stderr


def test_dist_train_two_processes_on_cpu(toy_workspace):
    toy_root = toy_workspace
    out = run_tool(['-c', 'import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))',
                    'bash', REPO / 'tools/dist_train.sh',
                    REPO / 'configs/karmma/toy/baseline_epic.py',
                    '2', '--work-dir', 'work_dirs/dist', '--cfg-options',
                    'train_cfg.max_epochs=1', *SHORT],
                   cwd=toy_root, env=dict(PORT='29533', PYTHON=sys.executable), timeout=600)
    log = out.stdout + out.stderr
    assert 'Distributed launcher: pytorch' in log or 'world_size: 2' in log, log[-3000:]
    assert glob.glob(osp.join(toy_root, 'work_dirs/dist/epoch_1.pth'))


def test_plugin_ends_any_process_group_at_exit(tmp_path):
    """Importing the plugin makes MMEngine's ``init_dist`` register the group's destruction with
    atexit (mmdistill_plugin/utils/compat.py, fix 5), so tools without their own ``finally``
    (cache_teacher, extract_features, the analysis tools, MMAction2's) end it too. A hook
    registered before ``init_dist`` runs after the plugin's (atexit is last in, first out) and
    prints whether a group is still there. In a child process: the group is global state."""
    import socket
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    code = ('import atexit, torch.distributed as d; '
            "atexit.register(lambda: print('initialised at exit:', d.is_initialized())); "
            'import mmdistill_plugin; from mmengine.dist import init_dist; '
            "init_dist('pytorch', backend='gloo'); print('initialised:', d.is_initialized())")
    env = dict(os.environ, RANK='0', LOCAL_RANK='0', WORLD_SIZE='1', MASTER_ADDR='127.0.0.1',
               MASTER_PORT=str(port))
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, env=env, cwd=str(REPO))
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split('\n')[:2] == ['initialised: True', 'initialised at exit: False']


def test_close_process_group_reports_what_it_destroyed(tmp_path):
    """``close_process_group`` destroys the group MMEngine leaves behind and says so; a second
    call, or one without a group, is a no-op returning False. In a child process: the process
    group is global state."""
    code = ('import sys; import torch.distributed as d; '
            'from mmdistill_plugin.utils.compat import close_process_group as close; '
            "r0 = close(); d.init_process_group('gloo', init_method='file://' + sys.argv[1], "
            'rank=0, world_size=1); assert d.is_initialized(); r1 = close(); '
            'assert not d.is_initialized(); print(r0, r1, close())')
    out = subprocess.run([sys.executable, '-c', code, str(tmp_path / 'store')],
                         capture_output=True, text=True, timeout=120, cwd=str(REPO))
    assert out.returncode == 0 and out.stdout.strip() == 'False True False', out.stderr[-2000:]


# A tool's __main__ under run_main: an atexit hook registered first (it runs last) reports whether
# the group is gone; a module global reports the interpreter's teardown from its __del__.
RUN_MAIN = """
import atexit, sys
import torch.distributed as d
atexit.register(lambda: print('atexit: group initialised', d.is_initialized(), flush=True))
from mmdistill_plugin.utils.compat import run_main
class Teardown:
    def __del__(self):
        print('teardown', flush=True)
witness = Teardown()
def main():
    if sys.argv[1] != 'none':
        d.init_process_group('gloo', init_method='file://' + sys.argv[2], rank=0, world_size=1)
    if sys.argv[3] == 'raise':
        raise RuntimeError('boom')
    return int(sys.argv[3]) if sys.argv[3].isdigit() else object()
run_main(main)
"""


@pytest.mark.parametrize('group,returns,status,out', [
    # a rank: exit functions run, the group is destroyed, status kept, no teardown (fix 6)
    ('gloo', '3', 3, ['atexit: group initialised False']),
    ('gloo', 'runner', 0, ['atexit: group initialised False']),
    # an error: the traceback, status 1, the group destroyed, the normal exit
    ('gloo', 'raise', 1, ['atexit: group initialised False', 'teardown']),
    # no group: sys.exit(status) and the normal teardown
    ('none', '3', 3, ['atexit: group initialised False', 'teardown']),
])
def test_run_main_ends_a_rank_without_the_interpreter_teardown(
        tmp_path, group, returns, status, out):
    """``compat.run_main`` (every tool's ``__main__`` with ``--launcher``; fix 6): a process that
    initialised a group runs its exit functions and exits with ``main``'s status before the
    interpreter's teardown, where a leftover gloo thread aborted ranks of tools/dist_train.sh
    (SIGABRT after training had finished, in CI once); anything else exits as
    ``sys.exit(main())`` would. In a child process: it exits."""
    proc = subprocess.run([sys.executable, '-c', RUN_MAIN, group, str(tmp_path / 'store'),
                           returns], capture_output=True, text=True, timeout=120,
                          cwd=str(REPO), env=dict(os.environ, PYTHONPATH=str(REPO)))
    assert proc.returncode == status, proc.stderr[-2000:]
    assert proc.stdout.split() == ' '.join(out).split(), (proc.stdout, proc.stderr[-2000:])
    assert ('RuntimeError: boom' in proc.stderr) == (returns == 'raise')


def test_tools_end_through_run_main():
    """Every tool with ``--launcher`` ends its ``__main__`` with ``run_main(main)``."""
    tools = ['train.py', 'test.py', 'cache_teacher.py', 'extract_features.py',
             'analysis/results_table.py', 'analysis/missing_modality_eval.py',
             'data/extract_detections.py']
    for tool in tools:
        tail = (REPO / 'tools' / tool).read_text().rsplit("if __name__ == '__main__':", 1)[1]
        assert 'run_main(main)' in tail, tool
    with_launcher = {str(p.relative_to(REPO / 'tools')) for p in (REPO / 'tools').rglob('*.py')
                     if "'--launcher'" in p.read_text()}
    with_launcher.discard('analysis/analysis_runner.py')  # the two analysis tools' helper
    assert with_launcher <= set(tools), with_launcher - set(tools)


@pytest.mark.parametrize('name', ['teacher', 'student'])
def test_toy_ssv2_pipelines_load_every_modality(toy_workspace, name, monkeypatch):
    toy_root = toy_workspace
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    monkeypatch.chdir(toy_root)
    cfg = Config.fromfile(REPO / f'configs/karmma/toy/{name}_ssv2.py')
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        sample = DATASETS.build(loader.dataset)[0]
        assert set(sample['inputs']) == {'rgb', 'flow', 'boxes'}
        assert all(sample['data_samples'].metainfo['modality_present'].values())
        assert sample['inputs']['rgb'].shape == (1, 3, 8, 32, 32)
