"""mmdistill: multimodal knowledge distillation for video action recognition.

Importing this package (``custom_imports=dict(imports=['mmdistill_plugin'])``) registers every
component into MMAction2's registries, applies the fixes this stack needs (see
:mod:`mmdistill_plugin.utils.compat`) and lets MMEngine resolve ``mmdistill_plugin::`` base
configs (see :mod:`mmdistill_plugin_scope` and :mod:`mmdistill_plugin.registry`).
"""
import mmdistill_plugin_scope as _scope

from .utils import compat as _compat  # noqa: F401  (applies stack fixes first)
from . import datasets, engine, evaluation, models, registry  # noqa: F401,E402
from .version import __version__  # noqa: E402

_scope.register()

__all__ = ['__version__']
