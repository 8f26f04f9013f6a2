"""Fixes for the pinned stack (torch 2.13 CPU, mmengine 0.10.7, mmaction2 1.1.0).

Importing :mod:`mmdistill_plugin` applies them once, so MMAction2's standard tools work
unchanged (the plugin is imported by ``custom_imports`` while the config is parsed, i.e.
before the :class:`~mmengine.runner.Runner` loads checkpoints or initialises distribution):

1. ``torch.load`` defaults to ``weights_only=True`` since torch 2.6, which rejects mmengine
   checkpoints (they pickle ``HistoryBuffer`` and numpy objects in ``message_hub``).
   :func:`load_from_local` re-registers mmengine's local-file loader with
   ``weights_only=False``. Only load checkpoints you trust.
2. mmengine's ``_init_dist_pytorch`` calls ``torch.cuda.set_device`` unconditionally, which
   fails on a CPU build. Without CUDA the patched version skips it and, if the config asks for
   ``nccl``, falls back to ``gloo`` with a warning.
"""
import os
import os.path as osp
import warnings

import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.runner.checkpoint import CheckpointLoader

_APPLIED = False


def load_from_local(filename, map_location):
    """Load a local checkpoint with ``weights_only=False`` (mmengine checkpoints).

    Raises:
        FileNotFoundError: naming ``filename`` when it does not exist.
    """
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'Checkpoint file {filename} can not be found.')
    return torch.load(filename, map_location=map_location, weights_only=False)


def _init_dist_pytorch(backend, init_backend='torch', **kwargs) -> None:
    """``mmengine.dist.utils._init_dist_pytorch`` that also works without CUDA."""
    if torch.cuda.is_available():
        return _ORIG_INIT_DIST_PYTORCH(backend, init_backend=init_backend, **kwargs)
    if backend == 'nccl':
        warnings.warn('CUDA is not available: using the gloo backend instead of nccl.')
        backend = 'gloo'
    if init_backend != 'torch':
        raise ValueError(f'init_backend={init_backend!r} needs CUDA; use "torch" on CPU.')
    torch_dist.init_process_group(
        backend=backend,
        rank=int(os.environ['RANK']),
        world_size=int(os.environ['WORLD_SIZE']),
        **kwargs)


_ORIG_INIT_DIST_PYTORCH = dist_utils._init_dist_pytorch


def apply() -> None:
    """Apply the fixes once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    dist_utils._init_dist_pytorch = _init_dist_pytorch
    _APPLIED = True


apply()
