# Copyright (c) mmdistill contributors.
"""What must be in place before a config is parsed or MMAction2 is imported.

Tiny, top-level and free of heavy imports, so it can run when the interpreter starts: a wheel
install ships ``mmdistill_plugin-startup.pth``, which calls :func:`install`; the plugin's
``tools/train.py`` / ``tools/test.py`` (what ``mim train mmdistill_plugin`` runs) and
``import mmdistill_plugin`` call it too (an editable install has no ``.pth``). Until MMEngine's
config modules or MMAction2 are imported, :func:`install` only puts an import hook on
``sys.meta_path``; then it patches them right after they load.

1. **Package scope of configs.** MMEngine 0.10 resolves ``_base_ = ['pkg::path.py']`` only for
   the scopes in ``mmengine.config.utils.MODULE2PACKAGE`` (the OpenMMLab codebases); any other
   stops with ``AssertionError: mmengine does not support to load mmdistill_plugin config``.
   MMEngine then reads ``<package>/.mim/model-index.yml`` and ``<package>/.mim/configs/<path>``,
   the files a non-editable install carries (``setup.py``: ``add_mim_extension``). The patch
   adds ``mmdistill_plugin`` to that table, so MMAction2's own ``tools/train.py`` (and
   ``mim train mmaction2``) accept ``_base_ = ['mmdistill_plugin::karmma/toy/student_epic.py']``.
   An editable (PEP 660) install keeps the package in the source tree, where MMEngine's
   ``get_installed_path`` does not look (it joins the dist-info folder with the package name);
   for ``mmdistill_plugin`` only, it then falls back to where Python imports the package from.
2. **MMAction2 1.2.0's release** (wheel and PyPI sdist) lacks ``mmaction/models/localizers/drn``
   (the folder has no ``__init__.py``, so its ``setup.py`` left it out) while
   ``localizers/__init__.py`` imports it: ``import mmaction.models`` fails, for MMAction2's own
   tools too. :func:`stub_missing_drn` puts an empty ``drn`` package in its place whose ``DRN``
   raises when built (a language-grounding localizer this plugin does not use). It also imports
   ``importlib_metadata`` (``mmaction/utils/dependency.py``) without declaring it:
   :func:`alias_importlib_metadata` points the name at the standard library's
   ``importlib.metadata`` (the same ``distribution`` / ``PackageNotFoundError``) when the
   backport is absent. Neither changes a complete MMAction2 (1.1.0, or 1.2.0 from git).
"""
import importlib.abc
import importlib.util
import os.path as osp
import sys
import types

SCOPE = 'mmdistill_plugin'
_DRN = 'mmaction.models.localizers.drn'


def _package_dir():
    spec = importlib.util.find_spec(SCOPE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _patch_config_utils(utils) -> None:
    utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


def _patch_config(config_module) -> None:
    original = config_module.get_installed_path
    if getattr(original, '_mmdistill', False):
        return

    def get_installed_path(package: str) -> str:
        path = original(package)
        if package == SCOPE and not osp.isdir(osp.join(path, '.mim')):
            local = _package_dir()
            if local is not None and osp.isdir(osp.join(local, '.mim')):
                return local
        return path

    get_installed_path._mmdistill = True
    config_module.get_installed_path = get_installed_path


def stub_missing_drn(mmaction_dir=None) -> bool:
    """Stub ``mmaction.models.localizers.drn`` when the installed MMAction2 imports it but lacks
    it (1.2.0's release). Returns whether it did."""
    if mmaction_dir is None:
        spec = importlib.util.find_spec('mmaction')
        if spec is None or spec.origin is None:
            return False
        mmaction_dir = osp.dirname(spec.origin)
    if _DRN in sys.modules:
        return False
    localizers = osp.join(mmaction_dir, 'models', 'localizers')
    init = osp.join(localizers, '__init__.py')
    if osp.isdir(osp.join(localizers, 'drn')) or not osp.isfile(init):
        return False
    with open(init) as f:
        if '.drn' not in f.read():
            return False

    class DRN:
        """Placeholder: MMAction2 1.2.0's release lacks the DRN localizer's code."""

        def __init__(self, *args, **kwargs):
            raise ImportError('DRN is not available: the installed MMAction2 release lacks '
                              'mmaction/models/localizers/drn (install MMAction2 from its git '
                              'repository to use it)')

    package = types.ModuleType(_DRN)
    package.__path__ = []
    module = types.ModuleType(_DRN + '.drn')
    module.DRN = DRN
    package.drn = module
    sys.modules[_DRN] = package
    sys.modules[_DRN + '.drn'] = module
    return True


def alias_importlib_metadata() -> bool:
    """``import importlib_metadata`` -> the standard library's ``importlib.metadata`` when the
    backport is absent. Returns whether it aliased."""
    if 'importlib_metadata' in sys.modules or \
            importlib.util.find_spec('importlib_metadata') is not None:
        return False
    from importlib import metadata
    sys.modules['importlib_metadata'] = metadata
    return True


def _patch_mmaction(mmaction) -> None:
    stub_missing_drn(osp.dirname(mmaction.__file__))
    alias_importlib_metadata()


_PATCHES = {'mmengine.config.utils': _patch_config_utils,
            'mmengine.config.config': _patch_config,
            'mmaction': _patch_mmaction}


class _PatchingLoader(importlib.abc.Loader):
    """Runs the real loader, then the patch for that module."""

    def __init__(self, loader, patch):
        self.loader, self.patch = loader, patch

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        self.patch(module)


class _ImportHook(importlib.abc.MetaPathFinder):
    """Patches the modules of ``_PATCHES`` right after they are first imported."""

    def find_spec(self, name, path=None, target=None):
        if name not in _PATCHES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, 'find_spec'):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _PatchingLoader(spec.loader, _PATCHES[name])
                return spec
        return None


def install() -> None:
    """Apply 1. and 2. (see the module docstring) now to the modules already imported, and on
    import to the others. Idempotent."""
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not all(name in sys.modules for name in _PATCHES) and \
            not any(isinstance(f, _ImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportHook())
