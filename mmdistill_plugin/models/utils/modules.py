"""Looking up sub-modules by name."""
import difflib

import torch
import torch.nn as nn


def find_module(model: nn.Module, name: str) -> nn.Module:
    """``dict(model.named_modules())[name]`` with a helpful error.

    Raises:
        KeyError: naming the layer and listing close candidates among the module names.
    """
    modules = dict(model.named_modules())
    if name in modules and name != '':
        return modules[name]
    names = [n for n in modules if n]
    close = difflib.get_close_matches(name, names, n=8, cutoff=0.6)
    parent = name.rsplit('.', 1)[0] if '.' in name else ''
    siblings = [n for n in names if n.startswith(parent + '.') and n.count('.') ==
                name.count('.')] if parent else [n for n in names if '.' not in n]
    candidates = list(dict.fromkeys(close + siblings[:8])) or names[:8]
    raise KeyError(f'layer {name!r} is not a module of {type(model).__name__}; close '
                   f'candidates: {candidates}')


def set_preprocessor_device(module: nn.Module, device) -> None:
    """Record ``device`` on every mmengine data preprocessor inside ``module``.

    mmengine's ``BaseModel.to/cuda/cpu`` record the target device on the data preprocessors of
    the module tree (``BaseModel._set_device``); a model held outside a parent's module tree
    (a frozen teacher) must be told separately. Uses the module's own ``_set_device`` when it
    has one (so a nested distiller passes it on to its teacher).
    """
    from mmengine.model import BaseDataPreprocessor
    device = torch.device(device)
    if hasattr(module, '_set_device'):
        module._set_device(device)
        return

    def _record(m):
        if isinstance(m, BaseDataPreprocessor):
            m._device = device

    module.apply(_record)
