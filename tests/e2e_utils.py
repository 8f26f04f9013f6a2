"""Helpers to run the project's command-line tools in a scratch directory."""
import os
import subprocess
import sys
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
    run_tool([REPO / 'tools/data/generate_toy_dataset.py', '--out-dir', 'data/toy',
              '--scale', 'tiny', '--seed', '0', '--num-workers', '1'], cwd=root)


# Short runs of the toy configs: one evaluation and one checkpoint per epoch, few logs.
SHORT = ['train_cfg.val_interval=1', 'default_hooks.checkpoint.interval=1',
         'default_hooks.logger.interval=1', 'train_dataloader.num_workers=0',
         'train_dataloader.persistent_workers=False',
         'val_dataloader.num_workers=0', 'test_dataloader.num_workers=0']
