"""mmdistill: multimodal knowledge distillation for video action recognition.

Importing this package (``custom_imports=dict(imports=['mmdistill_plugin'])``) registers every
component into MMAction2's registries and applies the fixes this stack needs
(see :mod:`mmdistill_plugin.utils.compat`).
"""
from .utils import compat as _compat  # noqa: F401  (applies stack fixes first)
from . import datasets, engine, evaluation, models  # noqa: F401,E402
from .version import __version__  # noqa: E402

__all__ = ['__version__']
