"""Helpers to run the project's command-line tools on the toy data: in a subprocess (``run_tool``,
for what the process itself does: start-up imports, exit codes, signals, launchers) or in this
process (``train_in_process``, ``tools_test_in_process``, ``call_tool``: everything else,
without re-importing torch, mmengine and MMAction2 for each run).

The in-process runs call the tools' own ``main(argv)``: for ``tools/train.py`` and
``tools/test.py`` that is ``build(argv)`` (argument parsing, config loading, the CLI's config
changes, the runner), then ``runner.train()`` / ``runner.test()``: the command line minus the
process. Global state a run
leaves behind (mmengine's logger / message hub / visualizer / default-scope instances, RNG
states, deterministic-algorithm flags, environment variables, cwd, ...) is restored by
``isolated_run`` so that runs and tests do not see each other.
"""
import contextlib
import importlib.util
import io
import multiprocessing
import os
import random
import subprocess
import sys
import uuid
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_tool(args, cwd, timeout=600, env=None, check=True):
    """Run ``python <args>`` (a path under the repo, then its arguments) in ``cwd``.

    The repo goes first on ``PYTHONPATH``; an inherited ``PYTHONPATH`` is kept after it (a GPU
    device machine's carried wheels live there: tools/gpu_check.py)."""
    path = os.pathsep.join(p for p in (str(REPO), os.environ.get('PYTHONPATH')) if p)
    full_env = dict(os.environ, PYTHONPATH=path, OMP_NUM_THREADS='1', **(env or {}))
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=cwd, env=full_env,
                          capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc


def generate_tiny_toy(root):
    """``tools/data/generate_toy_dataset.py --scale tiny --seed 0`` into ``root/data/toy`` in a
    subprocess. Tests should use the session fixture ``toy_data`` (tests/conftest.py) instead."""
    run_tool([REPO / 'tools/data/generate_toy_dataset.py', '--out-dir', 'data/toy',
              '--scale', 'tiny', '--seed', '0', '--num-workers', '1'], cwd=root)


# Short runs of the toy configs: one evaluation and one checkpoint per epoch, few logs.
SHORT = ['train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
         'default_hooks.logger.interval=1', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']


# ------------------------------------------------------------------------- in-process runs
_TOOLS = {}


def load_tool(path):
    """The module of the script ``path`` (relative to the repo, e.g. ``'tools/train.py'``),
    imported once, with the script's folder and ``tools/`` on ``sys.path`` as when it runs."""
    path = str(path)
    if path not in _TOOLS:
        folder = str((REPO / path).parent)
        extra = [p for p in (folder, str(REPO / 'tools')) if p not in sys.path]
        sys.path[:0] = extra
        try:
            name = 'tool_' + path.replace('/', '_').replace('.py', '')
            spec = importlib.util.spec_from_file_location(name, REPO / path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        finally:
            for p in extra:
                sys.path.remove(p)
        _TOOLS[path] = module
    return _TOOLS[path]


def _manager_classes():
    from mmengine.utils import ManagerMixin
    found, todo = [], [ManagerMixin]
    while todo:
        cls = todo.pop()
        for sub in cls.__subclasses__():
            found.append(sub)
            todo.append(sub)
    return found


@contextlib.contextmanager
def isolated_run(cwd=None):
    """Run a tool's code in this process as if it had its own: in ``cwd`` (if given), and with
    what it changes globally restored afterwards.

    Restored: the cwd, ``os.environ`` (``LOCAL_RANK``, thread variables), ``sys.argv``, the
    ``python``/``numpy``/``torch`` RNG states, torch's deterministic-algorithm and cuDNN flags
    and thread count, OpenCV's thread count, the multiprocessing start method, and every
    mmengine ``ManagerMixin`` instance created inside (``MMLogger`` with its open log files,
    ``MessageHub``, ``Visualizer``, ``DefaultScope``): a later run with the same experiment name
    (config file name + a timestamp in seconds) starts fresh instead of reusing them.
    """
    import cv2
    import numpy as np
    import torch
    from mmengine.logging import MMLogger

    managers = {cls: dict(cls._instance_dict) for cls in _manager_classes()}
    saved = dict(
        cwd=os.getcwd(), environ=dict(os.environ), argv=list(sys.argv),
        random=random.getstate(), numpy=np.random.get_state(), torch=torch.get_rng_state(),
        deterministic=torch.are_deterministic_algorithms_enabled(),
        warn_only=torch.is_deterministic_algorithms_warn_only_enabled(),
        cudnn=(torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark),
        threads=torch.get_num_threads(), cv2=cv2.getNumThreads(),
        start_method=multiprocessing.get_start_method(allow_none=True))
    if cwd is not None:
        os.chdir(cwd)
    try:
        yield
    finally:
        for cls, before in managers.items():
            created = [v for k, v in cls._instance_dict.items() if k not in before]
            for inst in created:
                if isinstance(inst, MMLogger):
                    for handler in list(inst.handlers):
                        handler.close()
                        inst.removeHandler(handler)
            cls._instance_dict.clear()
            cls._instance_dict.update(before)
        os.chdir(saved['cwd'])
        os.environ.clear()
        os.environ.update(saved['environ'])
        sys.argv[:] = saved['argv']
        random.setstate(saved['random'])
        np.random.set_state(saved['numpy'])
        torch.set_rng_state(saved['torch'])
        if (torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled()) != (
                    saved['deterministic'], saved['warn_only']):
            torch.use_deterministic_algorithms(saved['deterministic'],
                                               warn_only=saved['warn_only'])
        torch.backends.cudnn.deterministic, torch.backends.cudnn.benchmark = saved['cudnn']
        torch.set_num_threads(saved['threads'])
        cv2.setNumThreads(saved['cv2'])
        if saved['start_method'] is not None:
            multiprocessing.set_start_method(saved['start_method'], force=True)


class ToolRun:
    """What an in-process tool run gave: ``result`` (the tool's return value: the runner for
    ``train_in_process``, the metrics dict for ``tools_test_in_process``), its ``stdout`` (the
    runner's log lines included), ``stderr`` (with the warnings it raised) and ``returncode``,
    like ``run_tool``'s."""

    def __init__(self, result, stdout, stderr):
        self.result, self.stdout, self.stderr = result, stdout, stderr
        # the exit status of ``sys.exit(main())``: an int result is it (extract_flow.py), any
        # other return is 0 (a failing tool raises)
        int_result = isinstance(result, int) and not isinstance(result, bool)
        self.returncode = result if int_result else 0

    @property
    def log(self):
        return self.stdout + self.stderr


def call_tool(fn, argv, cwd=None):
    """``fn(argv)`` (a tool's ``main``, or ``build`` + run) in ``isolated_run(cwd)``, with its
    stdout, stderr and warnings captured. On an exception the output is printed (pytest shows
    it with the failure) and the exception propagates."""
    from mmengine.logging import MMLogger
    out, err = io.StringIO(), io.StringIO()
    argv = [str(a) for a in argv]
    with isolated_run(cwd), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter('default')
        try:
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                # the "current" logger of a fresh process: what the tool logs before its runner
                # exists goes to this run's stdout, not to an earlier test's logger
                MMLogger.get_instance(f'call_tool_{uuid.uuid4().hex}', logger_name='mmengine')
                result = fn(argv)
        except BaseException:
            print(out.getvalue()[-5000:], '\n', err.getvalue()[-5000:])
            raise
        finally:
            for w in seen:
                err.write(warnings.formatwarning(w.message, w.category, w.filename, w.lineno))
    return ToolRun(result, out.getvalue(), err.getvalue())


def train_in_process(args, cwd):
    """``python tools/train.py ARGS`` in ``cwd``, in this process (``tools/train.py``'s ``main``);
    ``.result`` is the runner."""
    return call_tool(load_tool('tools/train.py').main, args, cwd)


def tools_test_in_process(args, cwd):
    """``python tools/test.py ARGS`` in ``cwd``, in this process (``tools/test.py``'s ``main``);
    ``.result`` is the metrics dict."""
    return call_tool(load_tool('tools/test.py').main, args, cwd)
