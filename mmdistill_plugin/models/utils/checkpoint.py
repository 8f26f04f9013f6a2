"""Load a frozen teacher from its own checkpoint, failing loudly when it does not fit."""
import os.path as osp
from collections import OrderedDict

import torch.nn as nn
from mmengine.runner.checkpoint import _load_checkpoint

from mmdistill_plugin.engine.checkpoint_files import read_last_checkpoint

MAX_LISTED_KEYS = 10


class TeacherCheckpointError(RuntimeError):
    """A teacher checkpoint does not fit the teacher built from its config."""


def _listing(keys) -> str:
    keys = sorted(keys)
    more = f' ... (+{len(keys) - MAX_LISTED_KEYS} more)' if len(keys) > MAX_LISTED_KEYS else ''
    return ', '.join(keys[:MAX_LISTED_KEYS]) + more


def teacher_state_dict(checkpoint: dict, prefix: str = '') -> 'OrderedDict':
    """The model weights of an mmengine checkpoint, without ``module.`` and ``prefix``."""
    state = checkpoint.get('state_dict', checkpoint)
    out = OrderedDict()
    for k, v in state.items():
        if k.startswith('module.'):
            k = k[len('module.'):]
        if prefix:
            if not k.startswith(prefix):
                continue
            k = k[len(prefix):]
        out[k] = v
    return out


def resolve_checkpoint(path: str) -> str:
    """A checkpoint file, or a work dir's latest one (its ``last_checkpoint`` file).

    ``last_checkpoint`` is resolved against the work dir (see
    :func:`mmdistill_plugin.engine.checkpoint_files.read_last_checkpoint`): a relative path
    (what :class:`~mmdistill_plugin.engine.hooks.AtomicCheckpointHook` writes) is joined to it;
    an absolute one (plain mmengine) that points outside a copied work dir, or no longer
    exists, is replaced by the work dir's file of the same name, with a warning.

    Raises:
        FileNotFoundError: for a work dir without ``last_checkpoint``, or whose
            ``last_checkpoint`` names a file that does not exist.
        ValueError: ``last_checkpoint`` is empty.
    """
    if osp.isdir(path):
        return read_last_checkpoint(path)
    return path


def load_teacher(model: nn.Module, filename: str, prefix: str = '') -> None:
    """Load ``filename`` into ``model`` strictly.

    ``filename`` may be a work dir (its latest checkpoint is used). ``prefix`` selects a
    sub-model of the checkpoint (e.g. ``'student.'`` to use a distilled
    student as a teacher).

    Raises:
        TeacherCheckpointError: naming the file and the missing, unexpected and
            shape-mismatched keys when the checkpoint does not fit the teacher's config.
        FileNotFoundError: when the file does not exist.
    """
    filename = resolve_checkpoint(filename)
    checkpoint = _load_checkpoint(filename, map_location='cpu')
    state = teacher_state_dict(checkpoint, prefix)
    own = model.state_dict()
    missing = set(own) - set(state)
    unexpected = set(state) - set(own)
    mismatched = {f'{k} (checkpoint {tuple(state[k].shape)}, model {tuple(own[k].shape)})'
                  for k in set(own) & set(state)
                  if hasattr(state[k], 'shape') and state[k].shape != own[k].shape}
    if missing or unexpected or mismatched:
        parts = [f'Teacher checkpoint {filename} does not fit the teacher config.']
        if missing:
            parts.append(f'missing keys ({len(missing)}): {_listing(missing)}')
        if unexpected:
            parts.append(f'unexpected keys ({len(unexpected)}): {_listing(unexpected)}')
        if mismatched:
            parts.append(f'shape mismatches ({len(mismatched)}): {_listing(mismatched)}')
        parts.append('Check that `teacher` is the config the checkpoint was trained with '
                     '(and `teacher_ckpt_prefix` when it comes from a distillation run).')
        raise TeacherCheckpointError('\n  '.join(parts))
    model.load_state_dict(state, strict=True)
