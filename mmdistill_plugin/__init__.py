"""mmdistill: multimodal knowledge distillation for video action recognition.

Importing this package (``custom_imports=dict(imports=['mmdistill_plugin'])``) registers every
component into MMAction2's registries, applies the fixes this stack needs (see
:mod:`mmdistill_plugin.utils.compat`) and lets MMEngine resolve ``mmdistill_plugin::`` base
configs (see :mod:`mmdistill_plugin_startup` and :mod:`mmdistill_plugin.registry`).
"""
import mmdistill_plugin_startup as _startup

_startup.install()  # before anything imports MMAction2 (1.2.0 release fixes)
from .utils import compat as _compat  # noqa: F401,E402  (applies stack fixes first)
from . import datasets, engine, evaluation, models, registry  # noqa: F401,E402
from .version import __version__  # noqa: E402

__all__ = ['__version__']
