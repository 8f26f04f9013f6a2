"""mmdistill: multimodal knowledge distillation for video action recognition.

Importing this package (``custom_imports=dict(imports=['mmdistill_plugin'])``) registers every
component into MMAction2's registries, applies the fixes this stack needs (see
:mod:`mmdistill_plugin.utils.compat`, which runs :mod:`mmdistill_plugin_startup` first: MMAction2
1.2.0's release, ``mmdistill_plugin::`` base configs) and provides the registries of the
``mmdistill_plugin`` scope (:mod:`mmdistill_plugin.registry`).
"""
from .utils import compat as _compat  # noqa: F401  isort:skip (stack fixes first)
from . import datasets, engine, evaluation, models, registry  # noqa: F401,E402
from .version import __version__  # noqa: E402

__all__ = ['__version__']
