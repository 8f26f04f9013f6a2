# Copyright (c) mmdistill contributors.
"""Stop training at the first non-finite loss or gradient, before anything is learnt or saved
from it."""
import math
from typing import List, Optional

import torch
from mmengine.hooks import Hook
from mmengine.optim import OptimWrapper, OptimWrapperDict

from mmaction.registry import HOOKS

_ID_KEYS = ('narration_id', 'video_id', 'filename', 'frame_dir', 'sample_idx')


class NonFiniteLossError(FloatingPointError):
    """A loss or gradient is NaN / inf (the message names the iteration and the samples)."""


def batch_sample_ids(data_batch, limit: int = 8) -> str:
    """``"narration_id='P01_01_7', narration_id='P01_01_9', ... (16 samples)"`` of a batch."""
    samples = data_batch.get('data_samples') if isinstance(data_batch, dict) else None
    ids = []
    for ds in samples or ():
        meta = getattr(ds, 'metainfo', {}) or {}
        ids.append(next((f'{k}={meta[k]!r}' for k in _ID_KEYS if meta.get(k) is not None),
                        'a sample without id'))
    if not ids:
        return 'the batch carries no sample ids'
    more = f', ... ({len(ids)} samples)' if len(ids) > limit else ''
    return ', '.join(ids[:limit]) + more


def _wrappers(optim_wrapper) -> List[OptimWrapper]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return list(optim_wrapper.values())
    return [optim_wrapper] if isinstance(optim_wrapper, OptimWrapper) else []


@HOOKS.register_module()
class FiniteLossHook(Hook):
    """Raise :class:`NonFiniteLossError` at the first NaN / inf loss or gradient of training.

    Three checks, all before the checkpoint hook can save the iteration's state:

    * the loss handed to ``optim_wrapper.update_params`` (before ``backward``: the optimizer
      never steps on it);
    * every gradient when the optimizer is about to step (a torch ``step`` pre-hook: with
      ``AmpOptimWrapper`` the grad scaler skips overflowing steps itself, so only steps it
      takes are checked);
    * every loss term the model logs (``after_train_iter``, for models that step otherwise).

    The message names the iteration, the epoch, the loss (terms) or the parameter, and the ids
    of the batch's samples (``narration_id`` / ``video_id`` / ...). On in every config through
    ``configs/_base_/default_runtime.py``'s ``custom_hooks``; cost: one ``isfinite`` of the loss
    and of the gradient norms per iteration.

    Args:
        check_grads (bool): check the gradients too (default True).
    """

    priority = 'VERY_HIGH'

    def __init__(self, check_grads: bool = True) -> None:
        self.check_grads = check_grads
        self._batch = None
        self._where = ''
        self._handles = []

    # ------------------------------------------------------------------ wiring
    def before_train(self, runner) -> None:
        for wrapper in _wrappers(runner.optim_wrapper):
            if getattr(wrapper, '_finite_loss_checked', False):
                continue
            original = wrapper.update_params

            def update_params(loss, *args, _original=original, **kwargs):
                self.check_loss({'loss': loss})
                return _original(loss, *args, **kwargs)
            wrapper.update_params = update_params
            wrapper._finite_loss_checked = True
            if self.check_grads:
                names = {id(p): n for n, p in runner.model.named_parameters()}
                self._handles.append(wrapper.optimizer.register_step_pre_hook(
                    lambda opt, args, kwargs, names=names: self.check_grads_of(opt, names)))

    def after_train(self, runner) -> None:
        for h in self._handles:
            h.remove()
        self._handles = []

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._batch = data_batch
        self._where = (f'iteration {runner.iter + 1} (epoch {runner.epoch + 1}, batch '
                       f'{batch_idx + 1})')

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        if isinstance(outputs, dict):
            self.check_loss({k: v for k, v in outputs.items() if 'loss' in k})

    # ------------------------------------------------------------------ checks
    def _fail(self, what: str) -> None:
        raise NonFiniteLossError(
            f'{what} at {self._where or "a training iteration"}; samples of the batch: '
            f'{batch_sample_ids(self._batch)}. Training stopped before a checkpoint was written '
            f'from this step (inputs: see docs/reliability.md "Finite losses")')

    def check_loss(self, losses: dict) -> None:
        """Raise when a value of ``losses`` (tensor or number) is not finite."""
        bad = {}
        for k, v in losses.items():
            value = v.detach().float() if isinstance(v, torch.Tensor) else v
            try:
                finite = (bool(torch.isfinite(value).all()) if isinstance(value, torch.Tensor)
                          else math.isfinite(float(value)))
            except (TypeError, ValueError):
                continue
            if not finite:
                bad[k] = value
        if bad:
            terms = ', '.join(f'{k}={_show(v)}' for k, v in losses.items()
                              if isinstance(v, (torch.Tensor, float, int)))
            self._fail(f'non-finite loss ({", ".join(bad)}: {terms})')

    def check_grads_of(self, optimizer, names: Optional[dict] = None) -> None:
        """Raise when a gradient of ``optimizer``'s parameters is not finite."""
        grads = [(p, p.grad) for g in optimizer.param_groups for p in g['params']
                 if p.grad is not None]
        if not grads:
            return
        norms = torch._foreach_norm([g.detach() for _, g in grads])
        finite = torch.isfinite(torch.stack([n.float() for n in norms]))
        if bool(finite.all()):
            return
        bad = [(names or {}).get(id(p), f'parameter {tuple(p.shape)}')
               for (p, _), ok in zip(grads, finite.tolist()) if not ok]
        self._fail(f'non-finite gradient of {len(bad)} parameter(s), first {bad[0]}')


def _show(v) -> str:
    if isinstance(v, torch.Tensor):
        v = v.detach().float()
        return f'{v.item():.4g}' if v.numel() == 1 else f'tensor{tuple(v.shape)}'
    return f'{float(v):.4g}'
