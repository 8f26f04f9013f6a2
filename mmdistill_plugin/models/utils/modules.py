"""Looking up sub-modules by name."""
import difflib

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
