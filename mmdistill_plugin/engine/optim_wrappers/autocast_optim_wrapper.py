# Copyright (c) mmdistill contributors.
"""Mixed precision where mmengine's ``AmpOptimWrapper`` refuses to run: bf16 autocast on a CPU."""
from contextlib import contextmanager

import torch
import torch.nn as nn
from mmengine.optim import OptimWrapper

from mmaction.registry import OPTIM_WRAPPERS


@OPTIM_WRAPPERS.register_module()
class AutocastOptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose ``optim_context`` runs the forward under ``torch.autocast``.

    mmengine's ``AmpOptimWrapper`` needs CUDA (or NPU/MLU/MUSA) and fp16 loss scaling; bf16 has
    fp32's exponent range and needs no loss scaling, so on a CPU ``tools/train.py --amp`` uses
    this wrapper with ``dtype='bfloat16'``. Everything the model computes inside
    ``train_step`` (student and frozen teacher alike) runs under the same autocast.

    Args:
        dtype (str | torch.dtype): autocast dtype. Defaults to ``'bfloat16'``.
        device_type (str, optional): ``'cpu'`` or ``'cuda'``; default: the device of the
            model's first parameter.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``clip_grad``, ...).

    Raises:
        ValueError: an unknown ``dtype`` name.
    """

    def __init__(self, dtype='bfloat16', device_type=None, **kwargs) -> None:
        super().__init__(**kwargs)
        if isinstance(dtype, str):
            if not isinstance(getattr(torch, dtype, None), torch.dtype):
                raise ValueError(f'AutocastOptimWrapper: unknown dtype {dtype!r}')
            dtype = getattr(torch, dtype)
        self.cast_dtype = dtype
        self.device_type = device_type

    @contextmanager
    def optim_context(self, model: nn.Module):
        device_type = self.device_type
        if device_type is None:
            param = next(model.parameters(), None)
            device_type = param.device.type if param is not None else 'cpu'
        with super().optim_context(model), torch.autocast(device_type, dtype=self.cast_dtype):
            yield
