"""Fixes for the stack (torch 2.13 CPU, mmengine 0.10.x, mmaction2 1.1.0 and 1.2.0).

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
3. MMAction2 1.2.0's release lacks ``mmaction/models/localizers/drn`` and imports the undeclared
   ``importlib_metadata``: fixed by :mod:`mmdistill_plugin_startup` (``install()``), which must
   run before MMAction2 is imported and is called first.
4. MMAction2 1.2 renamed the data sample fields: ``gt_labels.item`` -> ``gt_label``,
   ``pred_scores.item`` -> ``pred_score``, ``pred_labels.item`` -> ``pred_label`` (tensors instead
   of ``LabelData``). The plugin's multi-head datasets, heads and metrics carry ``LabelData`` with
   one field per head (``verb``, ``noun``), so :func:`label_data_fields` gives MMAction2 1.2's
   ``ActionDataSample`` the 1.1 properties back and keeps both spellings in step: setting
   ``gt_labels = LabelData(item=t)`` also sets ``gt_label = t``, ``set_gt_label(t)`` /
   ``set_pred_score(t)`` / ``set_pred_label(t)`` also set ``gt_labels`` / ``pred_scores`` /
   ``pred_labels``. MMAction2 1.2's heads and ``AccMetric`` read their fields, the plugin reads
   its own. Nothing changes with MMAction2 1.1.
5. MMEngine initialises the ``torch.distributed`` process group (``init_dist``, any launcher)
   and never destroys it. A gloo group left to the interpreter's exit can abort a rank with
   "terminate called without an active exception" (SIGABRT, seen once in about ten CPU runs of
   ``tools/dist_train.sh`` after training had finished). The patched ``_init_dist_*`` register
   :func:`close_process_group` with :mod:`atexit`, so every tool that calls ``init_dist``
   (ours and MMAction2's) ends its group before exit.
6. Destroying the group does not end gloo's worker threads: torch keeps the C++ group alive
   once a ``DistributedDataParallel`` wrapped a model over it (the group's Python object keeps
   10 extra references after the wrapper is deleted and collected; its ``pt_gloo_runloop`` and
   ``gloo_tcp_loop`` threads run on), so they live into the interpreter's teardown. The abort of
   fix 5 happens there, with no Python frame left on the main thread: a ``pt_gloo_runloop``
   thread (``ProcessGroupGloo::runLoop``) releases the last work of the run late (a loaded CPU),
   the work's Python-owned tensor needs the GIL (``TensorImpl::decref_pyobject`` ->
   ``PyEval_AcquireThread``), CPython ends a thread that asks for it during finalisation with
   ``pthread_exit``, and its forced unwinding through a ``noexcept`` frame calls
   ``std::terminate`` (backtrace of a ``std::set_terminate`` handler in such an abort, about 1
   in 15 runs of ``tools/dist_train.sh`` on a loaded 2-core CPU; in CI once; always after
   training had finished). A barrier before the destruction does not prevent it (tried: 1 abort
   in 9 loaded runs). :func:`run_main` therefore ends a process that initialised a group with
   :func:`exit_skipping_teardown`: the :mod:`atexit` functions run (logging flushed, the group
   destroyed), then ``os._exit`` with the tool's status, so there is no finalisation for such a
   thread to die in. ``tools/train.py``, ``tools/test.py`` and every tool with ``--launcher``
   end through it.
"""
import atexit
import os
import os.path as osp
import sys
import warnings
from typing import Callable, Optional

import torch
import torch.distributed as torch_dist
from mmengine.dist import utils as dist_utils
from mmengine.runner.checkpoint import CheckpointLoader

import mmdistill_plugin_startup

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
_CLOSE_REGISTERED = False


def close_process_group() -> bool:
    """Destroy the default ``torch.distributed`` process group if one is initialised (no-op
    otherwise; safe to call twice). PyTorch asks for ``destroy_process_group()`` at the end of
    every distributed program; see fix 5 in the module docstring.

    Returns:
        bool: whether a group was destroyed.
    """
    if torch_dist.is_available() and torch_dist.is_initialized():
        torch_dist.destroy_process_group()
        return True
    return False


def exit_skipping_teardown(status: int = 0) -> None:
    """End the process with ``status`` after running the :mod:`atexit` functions and flushing
    ``sys.stdout`` / ``sys.stderr``, without the interpreter's teardown (module clearing, native
    static destructors), where a leftover gloo thread can abort the process (fix 6 in the module
    docstring). Never returns.

    Args:
        status (int): the exit status (0–255).
    """
    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (AttributeError, OSError, ValueError):  # closed or replaced streams
            pass
    os._exit(status)


def run_main(main: Callable[[], Optional[int]]) -> None:
    """Run a tool's ``main()`` and exit with its status, as ``sys.exit(main())`` does, ending a
    distributed run safely (fixes 5 and 6): the process group is destroyed whatever happens, and
    a process that had one ends with :func:`exit_skipping_teardown`. An
    exception from ``main`` propagates unchanged (traceback, status 1, normal exit: the group is
    destroyed already and the launcher ends the other ranks).

    Args:
        main: the tool's entry point; an int it returns is the exit status, anything else
            (``None``; ``tools/train.py`` returns its runner for in-process callers) is 0.

    Raises:
        SystemExit: always, outside a distributed run (``sys.exit(status)``).
    """
    try:
        result = main()
    finally:
        distributed = close_process_group()
    status = result if isinstance(result, int) and not isinstance(result, bool) else 0
    if distributed:
        exit_skipping_teardown(status)
    sys.exit(status)


def _closing_at_exit(init):
    """Wrap an ``mmengine.dist.utils._init_dist_*`` so that a successful initialisation
    registers :func:`close_process_group` with :mod:`atexit` (once per process)."""
    def wrapped(*args, **kwargs):
        global _CLOSE_REGISTERED
        init(*args, **kwargs)
        if not _CLOSE_REGISTERED:
            atexit.register(close_process_group)
            _CLOSE_REGISTERED = True
    wrapped.__doc__ = init.__doc__
    wrapped.__wrapped__ = init
    return wrapped


def _mirror(name_old: str, name_new: str):
    """A property ``name_old`` (``LabelData``) kept in step with the tensor field
    ``name_new`` (MMAction2 1.2)."""
    from mmengine.structures import LabelData
    private = '_' + name_old

    def getter(self):
        if private in self._data_fields:
            return getattr(self, private)
        if name_new in self._data_fields:
            value = getattr(self, name_new)
            if isinstance(value, dict):
                return LabelData(**value)
            return LabelData(item=value)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name_old}'")

    def setter(self, value):
        self.set_field(value, private, dtype=LabelData)
        if 'item' in value:
            self.set_field(value.item, name_new, dtype=torch.Tensor)

    def deleter(self):
        if private in self._data_fields:
            delattr(self, private)

    return property(getter, setter, deleter)


def label_data_fields() -> bool:
    """Give MMAction2 1.2's ``ActionDataSample`` the 1.1 ``LabelData`` fields (see the module
    docstring). Returns whether it patched (False on 1.1, which has them)."""
    from mmengine.structures import LabelData

    from mmaction.structures import ActionDataSample
    if isinstance(getattr(ActionDataSample, 'gt_labels', None), property) or \
            getattr(ActionDataSample, '_mmdistill_label_data', False):
        return False
    pairs = (('gt_labels', 'gt_label'), ('pred_scores', 'pred_score'),
             ('pred_labels', 'pred_label'))
    for old, new in pairs:
        setattr(ActionDataSample, old, _mirror(old, new))
    setters = dict(gt_labels=ActionDataSample.set_gt_label,
                   pred_scores=ActionDataSample.set_pred_score,
                   pred_labels=ActionDataSample.set_pred_label)

    def mirrored(old, original):
        def set_and_mirror(self, value):
            original(self, value)
            new = dict(pairs)[old]
            current = getattr(self, new)
            data = LabelData(**current) if isinstance(current, dict) else LabelData(item=current)
            self.set_field(data, '_' + old, dtype=LabelData)
            self._data_fields.add(old)
            return self
        set_and_mirror.__doc__ = original.__doc__
        return set_and_mirror

    ActionDataSample.set_gt_label = mirrored('gt_labels', setters['gt_labels'])
    ActionDataSample.set_pred_score = mirrored('pred_scores', setters['pred_scores'])
    ActionDataSample.set_pred_label = mirrored('pred_labels', setters['pred_labels'])
    ActionDataSample.set_gt_labels = lambda self, value: self.set_gt_label(value)
    ActionDataSample._mmdistill_label_data = True
    return True


def apply() -> None:
    """Apply the fixes once (idempotent)."""
    global _APPLIED
    if _APPLIED:
        return
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    dist_utils._init_dist_pytorch = _closing_at_exit(_init_dist_pytorch)
    dist_utils._init_dist_mpi = _closing_at_exit(dist_utils._init_dist_mpi)
    dist_utils._init_dist_slurm = _closing_at_exit(dist_utils._init_dist_slurm)
    mmdistill_plugin_startup.install()
    label_data_fields()
    _APPLIED = True


apply()
