"""tools/gpu_check.py, the prepared GPU device check, as a CPU dry run (docs/gpu.md).

One cheap end-to-end run (no CUDA: toy shapes) checks what a device run relies on: the steps
run in order in their own processes, a failing step is named, makes the exit status non-zero
and skips only the steps that need it, the measurements come back in the JSON, and the
Markdown/log files are written. The toy trainings themselves are covered by test_e2e_toy.py;
here the failure injected into ``toy_data`` skips them.
"""
import importlib.util
import json
import subprocess
import sys

import pytest
from e2e_utils import REPO

TOOL = REPO / 'tools/gpu_check.py'


def _load():
    spec = importlib.util.spec_from_file_location('gpu_check', TOOL)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_closure_adds_prerequisites_unless_their_outputs_exist(tmp_path):
    gc = _load()
    assert gc.closure(['toy_test'], str(tmp_path)) == [
        'toy_data', 'toy_teacher', 'toy_student_fp32', 'toy_test']
    (tmp_path / 'data/toy/epic').mkdir(parents=True)
    (tmp_path / 'work_dirs/toy_teacher_epic').mkdir(parents=True)
    (tmp_path / 'work_dirs/toy_teacher_epic/epoch_1.pth').write_bytes(b'')
    assert gc.closure(['toy_test', 'measure_dmcl'], str(tmp_path)) == [
        'measure_dmcl', 'toy_student_fp32', 'toy_test']


def test_default_cuda_run_trains_each_toy_student_once():
    """On CUDA, tests/test_gpu_smoke.py (pytest_gpu) trains the fp32 and AMP students and tests
    one: a default run leaves out the toy steps doing the same (the first device run ran out of
    its budget doing both); an explicit --steps list, or a CPU run, keeps them."""
    gc = _load()
    steps = gc.closure(list(gc.STEP_ORDER), '/nonexistent')
    assert gc.dropped_on_cuda(steps, cuda=True, explicit=False) == [
        'toy_student_fp32', 'toy_student_amp', 'toy_test']
    assert gc.dropped_on_cuda(steps, cuda=False, explicit=False) == []
    assert gc.dropped_on_cuda(steps, cuda=True, explicit=True) == []
    assert gc.DEPS['pytest_gpu'] == ('toy_teacher', )


def test_paper_shapes_and_heads_come_from_the_paper_configs():
    from mmengine.config import Config
    gc = _load()
    c = Config.fromfile(str(REPO / 'configs/karmma/student_epic.py'))
    # KARMMA §4: 32-frame 224² clips (rgb 3 channels, flow 2), 1024×128 log-mel; batch 6
    assert gc.shapes_for('karmma', c, toy=False) == dict(
        rgb=(1, 3, 32, 224, 224), flow=(1, 2, 32, 224, 224), audio=(1, 1, 1024, 128))
    assert c.train_dataloader.batch_size == 6
    assert gc._label_heads(c.model.student) == dict(verb=97, noun=300)
    d = Config.fromfile(str(REPO / 'configs/dmcl/dmcl_ntu120.py'))
    assert gc.shapes_for('dmcl', d, toy=False) == dict(
        rgb=(1, 3, 8, 224, 224), depth=(1, 1, 8, 224, 224), flow=(1, 2, 8, 224, 224))
    assert gc._label_heads(d.model) == dict(item=120)


@pytest.mark.skipif(sys.platform != 'linux', reason='uses process groups')
def test_cpu_dry_run_names_the_failing_step_and_runs_the_rest(tmp_path):
    out, work = tmp_path / 'out', tmp_path / 'work'
    proc = subprocess.run(
        [sys.executable, str(TOOL), '--no-install', '--toy', '--out', str(out), '--work-dir',
         str(work), '--iters', '1', '--warmup', '1', '--fail-step', 'toy_data', '--steps',
         'measure_karmma,fusion_memory,measure_mm2rgb,measure_dmcl,toy_test,dist_train'],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env=dict(__import__('os').environ, OMP_NUM_THREADS='1', CUDA_VISIBLE_DEVICES=''))
    log = proc.stdout + proc.stderr
    assert proc.returncode == 1, log[-3000:]
    assert 'CUDA is absent' in log
    assert log.rstrip().splitlines()[-1].startswith('[gpu_check] FAILED steps: toy_data')
    s = json.loads((out / 'gpu_check.json').read_text())
    assert s['ok'] is False and s['failed_steps'] == ['toy_data'] and s['cuda'] is False
    assert list(s['steps']) == ['install', 'measure_karmma', 'fusion_memory', 'measure_mm2rgb',
                                'measure_dmcl', 'toy_data', 'toy_teacher', 'toy_student_fp32',
                                'toy_test', 'dist_train']
    st = {k: v['status'] for k, v in s['steps'].items()}
    assert st == dict(install='passed', measure_karmma='passed', fusion_memory='passed',
                      measure_mm2rgb='passed', measure_dmcl='passed', toy_data='failed',
                      toy_teacher='skipped', toy_student_fp32='skipped', toy_test='skipped',
                      dist_train='skipped')
    assert s['steps']['toy_teacher']['reason'] == 'needs toy_data (failed)'
    assert s['steps']['toy_test']['reason'] == 'needs toy_student_fp32 (skipped)'
    for name in st:  # every step's wall time is recorded and printed
        assert s['steps'][name]['wall_s'] >= 0
        assert f'[gpu_check] {name:20s} {st[name].upper()}' in log
    karmma = s['steps']['measure_karmma']['measurements']
    assert [m['what'] for m in karmma] == [
        'karmma: student step', 'karmma: teacher forward (no grad)',
        'karmma: online distillation step', 'karmma: cached distillation step']
    assert all(m['ms'] > 0 and m['peak_mib'] is None and m['batch'] == 2 for m in karmma)
    dmcl = s['steps']['measure_dmcl']['measurements']
    assert dmcl[0]['shapes'] == dict(rgb=[1, 3, 8, 32, 32], depth=[1, 1, 8, 32, 32],
                                     flow=[1, 2, 8, 32, 32])
    fusion = s['steps']['fusion_memory']
    assert fusion['ratio'] is None and len(fusion['measurements']) == 2  # no CUDA: no memory
    md = (out / 'gpu_check.md').read_text()
    assert md.startswith('# GPU check: FAILED: toy_data')
    assert '| toy_data | failed |' in md and 'karmma: cached distillation step' in md
    assert '==== measure_dmcl: passed' in (out / 'gpu_check_logs.txt').read_text()
