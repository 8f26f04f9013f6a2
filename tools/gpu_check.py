#!/usr/bin/env python
"""One prepared device check: install, train, distil, cache and measure, in named steps.

Run on a lent GPU machine from the repository root (docs/gpu.md)::

    bash tools/gpu_check.sh                       # all steps, results under $OUT
    bash tools/gpu_check.sh --steps measure_karmma,dist_train   # only these (and what they need)

Without CUDA it says so and runs the same steps at toy shapes on the CPU (a CI test,
tests/test_gpu_check.py). Steps (``--steps`` names, in run order):

* ``install``: ``pip install --target`` the wheels carried in ``.whl/`` (none: use the current
  environment), print the versions of torch, numpy, mmengine, mmcv, mmaction, cv2, scipy,
  pandas, h5py, matplotlib, decord and the GPU's name, import the plugin and
  ``register_all_modules``. If a preinstalled package built against numpy 2 fails to import
  with the carried numpy 1.26, the carried numpy is set aside and the probe repeated.
* ``measure_karmma``, ``fusion_memory``, ``measure_mm2rgb``, ``measure_dmcl``: random weights at
  the paper's shapes and per-GPU batch (toy configs and shapes without CUDA), one after the
  other with the GPU to themselves: student step, online and cached distillation steps (ms:
  median of ``--iters`` after ``--warmup``, CUDA-synchronised; peak memory
  ``torch.cuda.max_memory_allocated``, reset between); KARMMA's fusion block training memory
  with Θ = 300 tokens vs all 784 (KARMMA Tab. 4: 6.52 / 1.97 GB = 3.3×); DMCL's three
  R(2+1)D-18 networks' joint step. A paper batch that runs out of memory is recorded and halved.
* ``pytest_gpu`` (``python -m pytest tests -m gpu -q``, reusing this run's toy data and teacher
  through ``MMDISTILL_GPU_TOY_ROOT``; skipped without CUDA, and with CUDA it replaces
  ``toy_student_fp32``, ``toy_student_amp`` and ``toy_test`` in a default run), ``toy_data``,
  ``toy_teacher``, ``toy_student_fp32``, ``toy_student_amp`` (CUDA only), ``toy_cache``,
  ``toy_student_cached``, ``toy_test``, ``dist_train`` (``tools/dist_train.sh`` with one
  process: NCCL on a GPU, gloo on a CPU): the project's tools on the tiny toy EPIC data, one
  epoch each, ``--jobs`` at a time.

Every step runs in its own process with a time limit and the run goes on after a failure;
a step whose prerequisite failed is skipped, naming it. ``--budget-s`` bounds the whole run:
measurement loops shrink when time runs short and steps that cannot start in time are skipped.
Writes ``gpu_check.json``, ``gpu_check.md`` and ``gpu_check_logs.txt`` (each step's output)
to ``--out`` (default ``$OUT``, else ``work_dirs/gpu_check``). Exit status 1 when any step
failed (named in the last line), else 0.
"""
import argparse
import json
import os
import os.path as osp
import platform
import shutil
import subprocess
import sys
import threading
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
STEP_ORDER = ('install', 'measure_karmma', 'fusion_memory', 'measure_mm2rgb', 'measure_dmcl',
              'pytest_gpu', 'toy_data', 'toy_teacher', 'toy_student_fp32', 'toy_student_amp',
              'toy_cache', 'toy_student_cached', 'toy_test', 'dist_train')
DEPS = dict(toy_data=(), toy_teacher=('toy_data', ), toy_student_fp32=('toy_teacher', ),
            toy_student_amp=('toy_teacher', ), toy_cache=('toy_teacher', ),
            toy_student_cached=('toy_cache', ), toy_test=('toy_student_fp32', ),
            dist_train=('toy_teacher', ), pytest_gpu=('toy_teacher', ))
# With CUDA, tests/test_gpu_smoke.py (the pytest_gpu step) trains the student in fp32 and with
# --amp from the toy teacher and tests it with tools/test.py, asserting more than these steps do;
# a default run on CUDA leaves them out instead of training the same models twice (the first
# device run, 2026-12-04, ran out of its budget doing both). Without CUDA they run.
COVERED_BY_PYTEST = ('toy_student_fp32', 'toy_student_amp', 'toy_test')
MEASURE_STEPS = ('measure_karmma', 'fusion_memory', 'measure_mm2rgb', 'measure_dmcl')
# What a step leaves behind (relative to the work dir): a rerun with --steps reuses it instead
# of running the prerequisite again.
PRODUCTS = dict(toy_data='data/toy/epic', toy_teacher='work_dirs/toy_teacher_epic/epoch_1.pth',
                toy_student_fp32='work_dirs/student_fp32/epoch_1.pth',
                toy_cache='work_dirs/toy_teacher_epic_cache')
PROBE_MODULES = ('torch', 'numpy', 'mmengine', 'mmcv', 'mmaction', 'cv2', 'scipy', 'pandas',
                 'h5py', 'matplotlib', 'decord')
# One short epoch of a toy config (tests/e2e_utils.py SHORT): one validation, one checkpoint.
ONE_EPOCH = ['train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
             'default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1',
             'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
             'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']
LOG_TAIL = 200_000  # characters of each step's output kept in gpu_check_logs.txt

PROBE = r'''
import importlib, json, sys
out = dict(python=sys.version.split()[0], modules={})
for name in %r:
    try:
        m = importlib.import_module(name)
        out['modules'][name] = dict(ok=True, version=str(getattr(m, '__version__', '?')),
                                    path=getattr(m, '__file__', None))
    except Exception as e:  # noqa: BLE001  (report any import failure)
        out['modules'][name] = dict(ok=False, error=f'{type(e).__name__}: {e}'[:500])
try:
    import torch
    out['cuda'] = torch.cuda.is_available()
    out['torch_cuda'] = torch.version.cuda
    out['device_name'] = torch.cuda.get_device_name() if out['cuda'] else None
    out['device_count'] = torch.cuda.device_count()
    out['cudnn'] = torch.backends.cudnn.version() if out['cuda'] else None
except Exception as e:  # noqa: BLE001
    out['cuda'] = False
    out['torch_error'] = repr(e)[:500]
try:
    import mmdistill_plugin
    from mmaction.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    out['plugin'] = dict(ok=True, path=mmdistill_plugin.__file__)
except Exception as e:  # noqa: BLE001
    out['plugin'] = dict(ok=False, error=f'{type(e).__name__}: {e}'[:1000])
print('PROBE_JSON ' + json.dumps(out))
''' % (PROBE_MODULES, )


# =========================================================================== the driver
class Run:
    """State of one check: arguments, environment for the step processes, results, logs."""

    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.deadline = self.t0 + args.budget_s
        self.results = {}
        self.logs = {}
        self.lock = threading.Lock()
        self.env = dict(os.environ, PYTHONUNBUFFERED='1')
        self.cuda = None  # known after install
        self.info = {}
        self.reserve = 0

    def left(self):
        return self.deadline - time.monotonic()

    def sh(self, name, cmd, timeout, cwd=None, env=None):
        """Run ``cmd`` (list), capture its output into the step's log; ``(rc, output)``.

        ``rc`` is ``'timeout'`` when it ran past ``timeout`` seconds (its process group is
        killed)."""
        timeout = max(1.0, min(timeout, self.left() - 5))
        full_env = dict(self.env, **(env or {}))
        with self.lock:
            self.logs.setdefault(name, []).append(f'$ {" ".join(map(str, cmd))}  '
                                                  f'(cwd {cwd or REPO}, limit {timeout:.0f} s)')
        proc = subprocess.Popen([str(c) for c in cmd], cwd=cwd or REPO, env=full_env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                errors='replace', start_new_session=True)
        try:
            out, _ = proc.communicate(timeout=timeout)
            rc = proc.returncode
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, 9)
            except ProcessLookupError:
                pass
            out, _ = proc.communicate()
            rc = 'timeout'
        out = out or ''
        with self.lock:
            self.logs[name].append(out[-LOG_TAIL:])
            self.logs[name].append(f'[exit status: {rc}]')
        return rc, out


def tail(text, n=2500):
    return text[-n:] if text else ''


def python_step(run, name, args, timeout, cwd=None, env=None, expect=(), products=()):
    """Run ``python ARGS``; passed when it exits 0, every string in ``expect`` is in its
    output and every path in ``products`` (relative to ``cwd``) exists."""
    return command_step(run, name, [sys.executable, *args], timeout, cwd, env, expect, products)


def command_step(run, name, cmd, timeout, cwd=None, env=None, expect=(), products=()):
    rc, out = run.sh(name, cmd, timeout, cwd=cwd, env=env)
    if rc != 0:
        why = 'timed out' if rc == 'timeout' else f'exit status {rc}'
        return dict(status='failed', error=f'{why}', log_tail=tail(out))
    missing = [s for s in expect if s not in out]
    if missing:
        return dict(status='failed', error=f'output lacks {missing}', log_tail=tail(out))
    absent = [p for p in products if not osp.exists(osp.join(cwd or REPO, p))]
    if absent:
        return dict(status='failed', error=f'not written: {absent}', log_tail=tail(out))
    return dict(status='passed')


# --------------------------------------------------------------------------- step: install
def step_install(run):
    a = run.args
    site = a.site
    wheels = sorted(f for f in os.listdir(a.wheels) if f.endswith('.whl')) \
        if osp.isdir(a.wheels) else []
    res = dict(wheels=wheels, site=None)
    if wheels and not a.no_install:
        cmd = [sys.executable, '-m', 'pip', 'install', '-q', '--no-index', '--no-deps',
               '--no-compile', '--no-cache-dir', '--upgrade', '--target', site,
               *[osp.join(a.wheels, w) for w in wheels]]
        rc, out = run.sh('install', cmd, 240)
        if rc != 0:
            return dict(res, status='failed', error=f'pip install: exit status {rc}',
                        log_tail=tail(out))
        res['site'] = site
    paths = [p for p in (res['site'], REPO, os.environ.get('PYTHONPATH')) if p]
    run.env['PYTHONPATH'] = os.pathsep.join(paths)
    os.environ['PYTHONPATH'] = run.env['PYTHONPATH']

    probe = _probe(run)
    res['numpy'] = 'carried' if res['site'] else 'environment'
    if res['site'] and not _probe_ok(probe, strict=True):
        # The machine's scipy/pandas/opencv/... were built against numpy 2: if one of them
        # fails with the carried numpy 1.26, try the machine's own numpy instead.
        moved = _set_aside_numpy(site)
        if moved:
            second = _probe(run)
            if _probe_ok(second, strict=True) or (_score(second) > _score(probe)):
                probe, res['numpy'] = second, 'machine (carried numpy 1.26 set aside)'
                res['numpy_note'] = ('with the carried numpy these failed: ' + ', '.join(
                    k for k, v in probe.get('first_failures', {}).items()))
            else:
                _restore_numpy(site, moved)
    res['probe'] = probe
    mods = probe.get('modules', {})
    lines = [f"python {probe.get('python')}  cuda {probe.get('cuda')}  "
             f"device {probe.get('device_name')}  torch.version.cuda {probe.get('torch_cuda')}"]
    for k in PROBE_MODULES:
        v = mods.get(k, {})
        ver = v.get('version') if v.get('ok') else f"IMPORT FAILED: {v.get('error')}"
        lines.append(f'  {k:11s} {ver}')
    lines.append(f"  plugin      {probe.get('plugin')}")
    print('\n'.join(lines), flush=True)
    run.cuda = bool(probe.get('cuda'))
    run.info.update(cuda=run.cuda, device=probe.get('device_name'), numpy_mode=res['numpy'])
    if not run.cuda:
        print('CUDA is absent: steps run at toy shapes on the CPU (dry run).', flush=True)
    if not _probe_ok(probe, strict=False):
        return dict(res, status='failed', error='import failed: ' + ', '.join(
            _failures(probe)))
    if not mods.get('cv2', {}).get('ok'):
        res['warning'] = 'cv2 does not import: every step that decodes frames will fail'
    return dict(res, status='passed')


CRITICAL = ('torch', 'numpy', 'mmengine', 'mmcv', 'mmaction')


def _probe(run):
    rc, out = run.sh('install', [sys.executable, '-c', PROBE], 180)
    for line in out.splitlines():
        if line.startswith('PROBE_JSON '):
            return json.loads(line[len('PROBE_JSON '):])
    return dict(modules={}, plugin=dict(ok=False, error=f'probe exit {rc}: {tail(out, 1500)}'))


def _failures(probe):
    bad = [k for k, v in probe.get('modules', {}).items() if not v.get('ok')]
    if not probe.get('plugin', {}).get('ok'):
        bad.append('mmdistill_plugin/register_all_modules')
    return bad


def _probe_ok(probe, strict):
    mods = probe.get('modules', {})
    names = PROBE_MODULES if strict else CRITICAL
    return all(mods.get(k, {}).get('ok') for k in names) and probe.get('plugin', {}).get('ok')


def _score(probe):
    return sum(bool(v.get('ok')) for v in probe.get('modules', {}).values()) + \
        2 * bool(probe.get('plugin', {}).get('ok'))


def _set_aside_numpy(site):
    moved = []
    aside = osp.join(site, '_numpy_set_aside')
    for name in os.listdir(site):
        if name == 'numpy' or (name.startswith('numpy-') and name.endswith('.dist-info')) or \
                name == 'numpy.libs':
            os.makedirs(aside, exist_ok=True)
            shutil.move(osp.join(site, name), osp.join(aside, name))
            moved.append(name)
    return moved


def _restore_numpy(site, moved):
    for name in moved:
        shutil.move(osp.join(site, '_numpy_set_aside', name), osp.join(site, name))


# --------------------------------------------------------------------------- measurement steps
def measure_step(run, name):
    """Run the measurement ``name`` in a worker process; its JSON result is the step's."""
    a = run.args
    iters = a.iters or (20 if run.cuda else 2)
    warmup = a.warmup if a.warmup is not None else (5 if run.cuda else 1)
    if run.cuda and run.left() < 200:
        iters, warmup = max(5, iters // 2), max(2, warmup // 2)
    if run.cuda and run.left() < 100:
        iters, warmup = 5, 1
    result = osp.join(a.work_dir, f'{name}.json')
    if osp.exists(result):
        os.remove(result)
    cmd = [osp.join(REPO, 'tools/gpu_check.py'), '--worker', name, '--result', result,
           '--iters', str(iters), '--warmup', str(warmup)]
    if not run.cuda or a.toy:
        cmd.append('--toy')
    # keep --toy-reserve-s of the budget for the toy steps that follow (when any do)
    limit = min(a.measure_timeout, max(60, run.left() - run.reserve))
    rc, out = run.sh(name, [sys.executable, *cmd], limit)
    data = {}
    if osp.exists(result):
        with open(result) as f:
            data = json.load(f)
    if rc != 0 or data.get('error'):
        why = data.get('error') or ('timed out' if rc == 'timeout' else f'exit status {rc}')
        return dict(data, status='failed', error=why, log_tail=tail(out))
    return dict(data, status='passed')


# --------------------------------------------------------------------------- toy steps
def cfg(path):
    return osp.join(REPO, 'configs/karmma/toy', path)


def toy_steps(run):
    w = run.args.work_dir
    train = osp.join(REPO, 'tools/train.py')
    student = cfg('student_epic.py')
    t = run.args.toy_timeout
    return dict(
        toy_data=lambda: python_step(
            run, 'toy_data', [osp.join(REPO, 'tools/data/generate_toy_dataset.py'), '--out-dir',
                              'data/toy', '--scale', 'tiny', '--seed', '0', '--datasets', 'epic',
                              '--num-workers', '2'], t, cwd=w, products=[PRODUCTS['toy_data']]),
        toy_teacher=lambda: python_step(
            run, 'toy_teacher', [train, cfg('teacher_epic.py'), '--work-dir',
                                 'work_dirs/toy_teacher_epic', '--seed', '0', '--cfg-options',
                                 *ONE_EPOCH], t, cwd=w, expect=['action_top1'],
            products=[PRODUCTS['toy_teacher']]),
        toy_student_fp32=lambda: python_step(
            run, 'toy_student_fp32', [train, student, '--work-dir', 'work_dirs/student_fp32',
                                      '--seed', '0', '--cfg-options', *ONE_EPOCH], t, cwd=w,
            expect=['loss_kd', 'action_top1'], products=[PRODUCTS['toy_student_fp32']]),
        toy_student_amp=lambda: python_step(
            run, 'toy_student_amp', [train, student, '--work-dir', 'work_dirs/student_amp',
                                     '--seed', '0', '--amp', '--cfg-options', *ONE_EPOCH], t,
            cwd=w, expect=['loss_kd', 'AmpOptimWrapper', 'action_top1'],
            products=['work_dirs/student_amp/epoch_1.pth']),
        toy_cache=lambda: python_step(
            run, 'toy_cache', [osp.join(REPO, 'tools/cache_teacher.py'), student, '--views', '2',
                               '--out', PRODUCTS['toy_cache'], '--seed', '0', '--num-workers',
                               '0'], t, cwd=w, products=[PRODUCTS['toy_cache']]),
        toy_student_cached=lambda: python_step(
            run, 'toy_student_cached', [train, cfg('student_epic_cached.py'), '--work-dir',
                                        'work_dirs/student_cached', '--seed', '0',
                                        '--cfg-options', *ONE_EPOCH], t, cwd=w,
            expect=['loss_kd', 'action_top1'], products=['work_dirs/student_cached/epoch_1.pth']),
        toy_test=lambda: python_step(
            run, 'toy_test', [osp.join(REPO, 'tools/test.py'), student,
                              PRODUCTS['toy_student_fp32'], '--work-dir',
                              'work_dirs/student_fp32/test'], t, cwd=w, expect=['action_top1']),
        dist_train=lambda: command_step(
            run, 'dist_train', ['bash', osp.join(REPO, 'tools/dist_train.sh'), student, '1',
                                '--work-dir', 'work_dirs/student_dist', '--cfg-options',
                                *ONE_EPOCH], t, cwd=w,
            env=dict(PORT=str(run.args.port), PYTHON=sys.executable),
            expect=['Distributed launcher: pytorch', 'action_top1'] +
            (['nccl'] if run.cuda else []),
            products=['work_dirs/student_dist/epoch_1.pth']),
        pytest_gpu=lambda: (
            python_step(run, 'pytest_gpu', ['-m', 'pytest', osp.join(REPO, 'tests'), '-m', 'gpu',
                                            '-q', '-p', 'no:cacheprovider', *_xdist(2)],
                        run.args.pytest_timeout, cwd=REPO,
                        # the smoke tests reuse this run's toy data and teacher (read-only)
                        env=dict(OMP_NUM_THREADS='1', MMDISTILL_GPU_TOY_ROOT=w),
                        expect=['passed'])
            if run.cuda else dict(status='skipped', reason='CUDA absent')))


def _xdist(n):
    """``-n N`` when pytest-xdist is installed (the device has it): the fp32 and AMP student
    tests then train side by side."""
    import importlib.util
    return ['-n', str(n)] if importlib.util.find_spec('xdist') else []


def _toy_step_fns(run):
    return toy_steps(run)


# --------------------------------------------------------------------------- scheduling
def closure(requested, work_dir):
    """``requested`` plus every prerequisite whose product is not already in ``work_dir``."""
    out = set(requested)
    stack = list(requested)
    while stack:
        for d in DEPS.get(stack.pop(), ()):
            made = d in PRODUCTS and osp.exists(osp.join(work_dir, PRODUCTS[d]))
            if d not in out and not made:
                out.add(d)
                stack.append(d)
    return [s for s in STEP_ORDER if s in out]


def dropped_on_cuda(steps, cuda, explicit):
    """The steps of a default run (no ``--steps``) on CUDA that ``pytest_gpu`` covers."""
    if not cuda or explicit or 'pytest_gpu' not in steps:
        return []
    return [s for s in COVERED_BY_PYTEST if s in steps]


def record(run, name, res, t_start):
    res['wall_s'] = round(time.monotonic() - t_start, 1)
    run.results[name] = res
    status = res['status'].upper()
    extra = res.get('error') or res.get('reason') or ''
    print(f'[gpu_check] {name:20s} {status:8s} {res["wall_s"]:7.1f} s  '
          f'(elapsed {time.monotonic() - run.t0:6.1f} s)  {extra}', flush=True)


def guarded(run, name, fn):
    t = time.monotonic()
    print(f'[gpu_check] {name} ...', flush=True)
    if name in run.args.fail_steps:  # for tests: make this step fail without running it
        res = dict(status='failed', error='injected failure (--fail-step)')
    elif run.left() < 15:
        res = dict(status='skipped', reason='no time left in --budget-s')
    else:
        try:
            res = fn()
        except Exception as e:  # noqa: BLE001  (one step's bug must not stop the others)
            res = dict(status='failed', error=f'{type(e).__name__}: {e}')
    record(run, name, res, t)
    return res


def run_pool(run, names, fns):
    """Run the toy steps ``names`` respecting DEPS, ``--jobs`` at a time."""
    pending = list(names)
    running = {}
    jobs = run.args.jobs or (4 if run.cuda else 1)
    with ThreadPoolExecutor(max_workers=jobs) as ex:
        while pending or running:
            for name in list(pending):
                deps = [d for d in DEPS.get(name, ()) if d in names]
                bad = [d for d in deps if d in run.results and
                       run.results[d]['status'] != 'passed']
                if bad:
                    pending.remove(name)
                    record(run, name, dict(status='skipped', reason=f'needs {bad[0]} '
                                           f'({run.results[bad[0]]["status"]})'),
                           time.monotonic())
                elif all(d in run.results for d in deps) and len(running) < jobs:
                    pending.remove(name)
                    running[ex.submit(guarded, run, name, fns[name])] = name
            if running:
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for f in done:
                    running.pop(f)


def main_driver(args):
    run = Run(args)
    os.makedirs(args.out, exist_ok=True)
    os.makedirs(args.work_dir, exist_ok=True)
    requested = [s.strip() for s in args.steps.split(',')] if args.steps else list(STEP_ORDER)
    unknown = [s for s in requested if s not in STEP_ORDER]
    if unknown:
        raise SystemExit(f'--steps: unknown {unknown}; choose from {", ".join(STEP_ORDER)}')
    steps = closure(requested, args.work_dir)
    if 'install' not in steps:
        steps.insert(0, 'install')  # always: it sets the environment and detects CUDA
    print(f'[gpu_check] steps: {", ".join(steps)}; budget {args.budget_s:.0f} s; '
          f'work dir {args.work_dir}; out {args.out}', flush=True)

    res = guarded(run, 'install', lambda: step_install(run))
    if res['status'] != 'passed':
        for s in steps[1:]:
            record(run, s, dict(status='skipped', reason='needs install (failed)'),
                   time.monotonic())
    else:
        for s in dropped_on_cuda(steps, run.cuda, explicit=bool(args.steps)):
            steps.remove(s)
            print(f'[gpu_check] {s}: covered by pytest_gpu (tests/test_gpu_smoke.py)',
                  flush=True)
        run.reserve = args.toy_reserve_s if any(
            s not in MEASURE_STEPS and s != 'install' for s in steps) else 0
        print(f'[gpu_check] {run.reserve:.0f} s of the budget kept for the toy steps', flush=True)
        for s in [s for s in steps if s in MEASURE_STEPS]:
            guarded(run, s, lambda s=s: measure_step(run, s))
        fns = _toy_step_fns(run)
        run_pool(run, [s for s in steps if s in fns], fns)
    return finish(run, steps)


# --------------------------------------------------------------------------- summary
def finish(run, steps):
    a = run.args
    failed = [s for s in steps if run.results.get(s, {}).get('status') == 'failed']
    summary = dict(
        ok=not failed, failed_steps=failed, steps={s: run.results.get(s) for s in steps},
        total_s=round(time.monotonic() - run.t0, 1), budget_s=a.budget_s,
        host=platform.node(), python=sys.version.split()[0], argv=sys.argv[1:],
        started=time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(time.time() - (
            time.monotonic() - run.t0))), **run.info)
    with open(osp.join(a.out, 'gpu_check.json'), 'w') as f:
        json.dump(summary, f, indent=1, default=str)
    with open(osp.join(a.out, 'gpu_check.md'), 'w') as f:
        f.write(markdown(summary))
    with open(osp.join(a.out, 'gpu_check_logs.txt'), 'w') as f:
        for s in steps:
            f.write(f'\n{"=" * 30} {s}: {run.results.get(s, {}).get("status")}\n')
            f.write('\n'.join(run.logs.get(s, [])) + '\n')
    print(f'[gpu_check] wrote {a.out}/gpu_check.json, gpu_check.md, gpu_check_logs.txt '
          f'({summary["total_s"]} s)', flush=True)
    if failed:
        print(f'[gpu_check] FAILED steps: {",".join(failed)}  (rerun: bash tools/gpu_check.sh '
              f'--steps {",".join(failed)})', flush=True)
        return 1
    print('[gpu_check] all steps passed', flush=True)
    return 0


def _ms(v):
    return '—' if v is None else f'{v:.1f}'


def markdown(s):
    lines = [f"# GPU check: {'PASSED' if s['ok'] else 'FAILED: ' + ', '.join(s['failed_steps'])}",
             '', f"device: {s.get('device') or 'none (CPU dry run, toy shapes)'}; "
             f"numpy: {s.get('numpy_mode')}; total {s['total_s']} s (budget {s['budget_s']} s); "
             f"started {s['started']}", '', '| step | status | wall (s) | note |',
             '| --- | --- | --- | --- |']
    for name, r in s['steps'].items():
        r = r or {}
        note = (r.get('error') or r.get('reason') or r.get('warning') or '').replace('|', '/')
        lines.append(f"| {name} | {r.get('status')} | {r.get('wall_s', '')} | {note[:160]} |")
    inst = (s['steps'].get('install') or {}).get('probe')
    if inst:
        lines += ['', '## Versions', '']
        for k, v in inst.get('modules', {}).items():
            lines.append(f"- {k}: {v.get('version') if v.get('ok') else 'FAILED ' + v['error']}")
        lines.append(f"- GPU: {inst.get('device_name')} (torch CUDA {inst.get('torch_cuda')}, "
                     f"cuDNN {inst.get('cudnn')})")
    rows = []
    for name in MEASURE_STEPS:
        r = s['steps'].get(name) or {}
        for m in r.get('measurements', []):
            rows.append(f"| {m['what']} | {m.get('batch')} | {_ms(m.get('ms'))} | "
                        f"{_ms(m.get('peak_mib'))} | {m.get('note', '')} |")
    if rows:
        lines += ['', '## Measurements (random weights; ms = median step time, peak = '
                  'torch.cuda.max_memory_allocated, MiB)', '',
                  '| what | batch | ms | peak MiB | note |', '| --- | --- | --- | --- | --- |',
                  *rows]
    fm = (s['steps'].get('fusion_memory') or {}).get('ratio')
    if fm:
        lines += ['', f'Fusion block training memory, all tokens / Θ tokens: {fm:.2f}× '
                  '(KARMMA Tab. 4: 6.52 / 1.97 GB = 3.3×).']
    return '\n'.join(lines) + '\n'


# =========================================================================== workers
# (these run in their own process, after install: torch, mmengine and the plugin import)
def _setup_worker():
    import torch

    import mmdistill_plugin  # noqa: F401  (registers the plugin's modules)
    from mmaction.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    sys.path.insert(0, osp.join(REPO, 'tools', 'analysis'))
    sys.path.insert(0, osp.join(REPO, 'benchmarks'))
    dev = 'cuda' if torch.cuda.is_available() else 'cpu'
    if dev == 'cuda':
        torch.backends.cudnn.benchmark = True
    return dev


def _label_heads(model_cfg):
    """``{head: num_classes}`` of the first classification head found in a model config, or
    ``{'item': num_classes}`` for a single head."""
    stack = [model_cfg]
    while stack:
        node = stack.pop(0)
        if isinstance(node, dict):
            n = node.get('num_classes')
            if isinstance(n, dict):
                return dict(n)
            if isinstance(n, int):
                return dict(item=n)
            stack.extend(v for k, v in node.items() if k != 'num_classes')
        elif isinstance(node, (list, tuple)):
            stack.extend(node)
    raise KeyError('no num_classes in the model config')


CHANNELS = dict(rgb=3, flow=2, depth=1)


def make_batches(shapes, heads, batch_size, n, seed=0):
    """``n`` collated batches as the dataloader gives them: ``inputs[m]`` a list of
    ``batch_size`` per-sample tensors of ``shapes[m]`` (pixels in [0, 255], log-mel N(0, 1)),
    ``ActionDataSample`` with random ``gt_labels`` per head and every modality present."""
    import torch
    from mmengine.structures import LabelData

    from mmaction.structures import ActionDataSample
    g = torch.Generator().manual_seed(seed)
    mods = tuple(shapes)
    base = {m: (torch.randn(shapes[m], generator=g) if m == 'audio' else
                torch.rand(shapes[m], generator=g) * 255) for m in mods}
    out = []
    for i in range(n):
        samples = []
        for j in range(batch_size):
            ds = ActionDataSample()
            ds.gt_labels = LabelData(**{h: torch.randint(0, c, (1, ), generator=g)
                                        for h, c in heads.items()})
            ds.set_metainfo(dict(modalities=mods, modality_present={m: True for m in mods},
                                 modality_mask={m: True for m in mods}))
            samples.append(ds)
        # one random clip per modality, rolled per sample: no per-step host cost
        inputs = {m: [base[m].roll(i * batch_size + j, -1) for j in range(batch_size)]
                  for m in mods}
        out.append(dict(inputs=inputs, data_samples=samples))
    return out


def shapes_for(kind, c, toy):
    """Per-sample packed input shapes ``[1, C, T, H, W]`` / audio ``[1, 1, F, M]`` from the
    config's dataset variables (the paper's: 32×224² for KARMMA, 8×224² for the others)."""
    if toy:
        t, s = c.toy_clip_len, c.toy_size
    else:
        t, s = c.clip_len, c.get('img_size', 224)
    mods = dict(karmma=('rgb', 'flow', 'audio'), mm2rgb=('rgb', 'flow'),
                dmcl=('rgb', 'depth', 'flow'))[kind]
    out = {}
    for m in mods:
        if m == 'audio':
            out[m] = (1, 1, c.toy_audio_frames, c.toy_n_mels) if toy else \
                (1, 1, c.audio_frames, 128)
        else:
            out[m] = (1, CHANNELS[m], t, s, s)
    return out


PAIRS = dict(
    karmma=('configs/karmma/student_epic.py', 'configs/karmma/toy/student_epic.py'),
    mm2rgb=('configs/mm2rgb/student_rgb_flow_sthv2.py',
            'configs/mm2rgb/toy/student_rgb_flow_sthv2.py'),
    dmcl=('configs/dmcl/dmcl_ntu120.py', 'configs/dmcl/toy/dmcl_sthv2.py'))


def _peak_and_time(dev, name, fn, batches, warmup):
    """``(median ms, peak MiB, resident MiB)`` of ``fn(batch)`` over ``batches[warmup:]``.

    The ``warmup`` batches run first (cuDNN autotuning, lazy optimizer state); then the peak
    is reset, so ``peak`` = ``torch.cuda.max_memory_allocated`` over the timed steps and
    ``resident`` = what was allocated before them (weights, gradients, optimizer state)."""
    import torch
    from distill_overhead import timed  # benchmarks/distill_overhead.py
    for b in batches[:warmup]:
        fn(b)
    resident = None
    if dev == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        resident = torch.cuda.memory_allocated() / 2 ** 20
    sec = timed({name: fn}, batches[warmup:], 0)[name]
    peak = torch.cuda.max_memory_allocated() / 2 ** 20 if dev == 'cuda' else None
    return 1000 * sec, peak, resident


def worker_pair(kind, args):
    """Student step, online and cached distillation steps (mm2rgb, KARMMA) or the joint step
    of DMCL's networks, at the paper's batch (halved on out-of-memory, recorded)."""
    import copy
    import gc

    import torch
    from mmengine.config import Config
    from mmengine.optim import OptimWrapper

    from mmaction.registry import MODELS
    dev = _setup_worker()
    from distill_overhead import cached_distill_step, with_cached_logits
    from efficiency import drop_checkpoints
    toy = args.toy or (dev == 'cpu' and not args.paper)
    path = osp.join(REPO, PAIRS[kind][1 if toy else 0])
    c = Config.fromfile(path)
    drop_checkpoints(c.model)  # random weights: the cost is the same
    shapes = shapes_for(kind, c, toy)
    heads = _label_heads(c.model.get('student', c.model))
    paper_bs = c.train_dataloader.batch_size
    bs = args.batch or (2 if toy else paper_bs)
    ms = []
    notes = []
    n = args.warmup + args.iters
    while True:
        try:
            torch.manual_seed(0)
            model = MODELS.build(copy.deepcopy(c.model))
            batches = make_batches(shapes, heads, bs, n)
            common = dict(batch=bs, shapes={m: list(s) for m, s in shapes.items()},
                          config=osp.relpath(path, REPO))
            if kind == 'dmcl':
                model.to(dev).train()
                opt = OptimWrapper(torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9))
                t, peak, res = _peak_and_time(
                    dev, 'step', lambda b: model.train_step(copy.copy(b), opt), batches,
                    args.warmup)
                ms.append(dict(common, what='dmcl: 3× R(2+1)D-18 joint step', ms=t,
                               peak_mib=peak, resident_mib=res))
                print(ms[-1], flush=True)
            else:
                student = copy.deepcopy(model.student).to(dev).train()
                opt_s = OptimWrapper(torch.optim.AdamW(student.parameters(), lr=1e-4))
                t, peak, res = _peak_and_time(
                    dev, 'student', lambda b: student.train_step(copy.copy(b), opt_s),
                    batches, args.warmup)
                ms.append(dict(common, what=f'{kind}: student step', ms=t, peak_mib=peak,
                               resident_mib=res))
                print(ms[-1], flush=True)
                del student, opt_s
                model.to(dev).train()
                opt = OptimWrapper(torch.optim.AdamW(
                    [p for p in model.parameters() if p.requires_grad], lr=1e-4))
                cached = {}

                def teacher_fwd(b):
                    d = model.data_preprocessor(copy.copy(b), True)
                    cached[id(b)] = with_cached_logits(b, model.teacher_logits(
                        d['inputs'], d['data_samples']))
                t, peak, res = _peak_and_time(dev, 'teacher', teacher_fwd, batches,
                                              args.warmup)
                ms.append(dict(common, what=f'{kind}: teacher forward (no grad)', ms=t,
                               peak_mib=peak, resident_mib=res))
                print(ms[-1], flush=True)
                t, peak, res = _peak_and_time(
                    dev, 'online', lambda b: model.train_step(copy.copy(b), opt), batches,
                    args.warmup)
                ms.append(dict(common, what=f'{kind}: online distillation step', ms=t,
                               peak_mib=peak, resident_mib=res))
                print(ms[-1], flush=True)
                model._teacher.cpu()  # a cached run builds no teacher: free its memory
                t, peak, res = _peak_and_time(
                    dev, 'cached', lambda b: cached_distill_step(model, cached[id(b)], opt),
                    batches, args.warmup)
                ms.append(dict(common, what=f'{kind}: cached distillation step', ms=t,
                               peak_mib=peak, resident_mib=res,
                               note='teacher moved off the GPU'))
                print(ms[-1], flush=True)
            break
        except torch.cuda.OutOfMemoryError as e:
            notes.append(f'batch {bs}: out of memory ({str(e)[:200]})')
            print(notes[-1], flush=True)
            if bs == 1:
                raise
        # out of memory: free everything of this try (outside the except block, whose
        # traceback holds the frames), then halve the batch
        ms, model, batches, student, opt_s, opt, cached = [], None, None, None, None, None, None
        gc.collect()
        torch.cuda.empty_cache()
        bs //= 2
    for m in ms:
        if bs != paper_bs and not toy:
            m['note'] = (m.get('note', '') + f' batch shrunk from the paper\'s {paper_bs} '
                         '(OOM)').strip()
    return dict(measurements=ms, device=dev, toy=toy, paper_batch=paper_bs, oom=notes,
                iters=args.iters, warmup=args.warmup, precision='fp32 (OptimWrapper)')


def worker_fusion(args):
    """KARMMA fusion block (the teacher's: D = 768, l = 2, 8 heads) training memory and time,
    V + A as in KARMMA Tab. 4, with Θ = 300 tokens per modality vs all 784 (16×7×7 Swin
    tokens of a 32×224² clip), at the teacher's batch 32; toy: the toy teacher's block."""
    import copy

    import torch
    from mmengine.config import Config

    from mmaction.registry import MODELS
    dev = _setup_worker()
    toy = args.toy or (dev == 'cpu' and not args.paper)
    path = osp.join(REPO, 'configs/karmma/toy/teacher_epic.py' if toy else
                    'configs/karmma/teacher_epic.py')
    c = Config.fromfile(path)
    fusion = copy.deepcopy(c.model.fusion)
    mods = ('rgb', 'audio')
    theta = c.model.neck.theta
    bs = args.batch or (2 if toy else c.train_dataloader.batch_size)
    all_tokens = round(theta * 784 / 300) if toy else 784
    out = []
    for n_tok in (theta, all_tokens):
        cfgf = dict(fusion, in_channels={m: fusion.in_channels[m] for m in mods},
                    num_tokens={m: n_tok for m in mods})
        torch.manual_seed(0)
        block = MODELS.build(cfgf).to(dev).train()
        toks = [{m: torch.randn(bs, n_tok, cfgf['in_channels'][m], device=dev) for m in mods}
                for _ in range(2)]

        def step(t):
            y = block(t)
            (y[0] if isinstance(y, tuple) else y).float().sum().backward()
        reps = (args.warmup + args.iters + 1) // 2
        t, peak, res = _peak_and_time(dev, 'fusion', step, toks * reps, args.warmup)
        out.append(dict(what=f'karmma: fusion block fwd+bwd, {n_tok} tokens/modality (V+A)',
                        batch=bs, ms=t, peak_mib=peak, resident_mib=res,
                        extra_mib=None if peak is None else peak - res))
        print(out[-1], flush=True)
        block = toks = None  # free before the next size
    ratio = None
    if dev == 'cuda':
        ratio = out[1]['extra_mib'] / out[0]['extra_mib']
        for m in out:
            m['note'] = f"training memory above weights+inputs: {m['extra_mib']:.0f} MiB"
    return dict(measurements=out, ratio=ratio, paper_ratio=6.52 / 1.97, device=dev, toy=toy,
                theta=theta, all_tokens=all_tokens)


def main_worker(args):
    t0 = time.monotonic()
    try:
        if args.worker == 'fusion_memory':
            res = worker_fusion(args)
        else:
            res = worker_pair(args.worker.replace('measure_', ''), args)
    except Exception as e:  # noqa: BLE001  (written to the result file, then re-raised)
        import traceback
        traceback.print_exc()
        res = dict(error=f'{type(e).__name__}: {str(e)[:1500]}')
    res['worker_s'] = round(time.monotonic() - t0, 1)
    with open(args.result, 'w') as f:
        json.dump(res, f, indent=1, default=str)
    return 1 if 'error' in res else 0


# =========================================================================== command line
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    default_out = os.environ.get('OUT') or osp.join(REPO, 'work_dirs', 'gpu_check')
    p.add_argument('--out', default=default_out,
                   help='results folder (default $OUT, else work_dirs/gpu_check)')
    p.add_argument('--work-dir', default='/tmp/gpu_check_work',
                   help='scratch folder for toy data and work dirs (never inside $OUT: its '
                        'files are copied back)')
    p.add_argument('--steps', default=None, help=f'comma-separated subset of: '
                   f'{",".join(STEP_ORDER)} (prerequisites are added unless their outputs '
                   f'are in --work-dir)')
    p.add_argument('--budget-s', type=float, default=450,
                   help='the whole run; loops shrink and late steps are skipped to fit')
    p.add_argument('--wheels', default=osp.join(REPO, '.whl'))
    p.add_argument('--site', default='/tmp/site', help='pip --target for the carried wheels')
    p.add_argument('--no-install', action='store_true',
                   help='do not install the carried wheels (use the current environment)')
    p.add_argument('--iters', type=int, default=None,
                   help='timed steps per measurement (default 20 on CUDA, 2 on CPU)')
    p.add_argument('--warmup', type=int, default=None, help='default 5 on CUDA, 1 on CPU')
    p.add_argument('--jobs', type=int, default=None,
                   help='toy steps at a time (default 4 with CUDA, 1 without)')
    p.add_argument('--port', type=int, default=29563, help='dist_train master port')
    p.add_argument('--toy-timeout', type=float, default=180)
    p.add_argument('--toy-reserve-s', type=float, default=150,
                   help='budget the measurements leave for the toy steps')
    p.add_argument('--pytest-timeout', type=float, default=360)
    p.add_argument('--measure-timeout', type=float, default=180)
    p.add_argument('--fail-step', dest='fail_steps', action='append', default=[],
                   help='(tests) make this step fail without running it')
    # worker mode (internal)
    p.add_argument('--worker', choices=MEASURE_STEPS, help=argparse.SUPPRESS)
    p.add_argument('--result', help=argparse.SUPPRESS)
    p.add_argument('--toy', action='store_true',
                   help='measure the toy configs at toy shapes even with CUDA')
    p.add_argument('--paper', action='store_true', help=argparse.SUPPRESS)  # paper shapes on CPU
    p.add_argument('--batch', type=int, default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:  # the driver passes both; alone, a worker takes the CPU defaults
        a.iters, a.warmup = a.iters or 2, 1 if a.warmup is None else a.warmup
    a.out = osp.abspath(a.out)
    a.work_dir = osp.abspath(a.work_dir)
    return a


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return main_worker(args)
    return main_driver(args)


if __name__ == '__main__':
    sys.exit(main())
