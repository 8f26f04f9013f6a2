# Copyright (c) mmdistill contributors.
"""Make ``_base_ = ['mmdistill_plugin::karmma/toy/student_epic.py']`` resolve in MMEngine.

MMEngine 0.10 resolves a ``package::path`` base config only for the scopes listed in
``mmengine.config.utils.MODULE2PACKAGE`` (the OpenMMLab codebases); any other scope stops with
``AssertionError: mmengine does not support to load mmdistill_plugin config``. It then reads
``<package>/.mim/model-index.yml`` and ``<package>/.mim/configs/<path>``, the files a
non-editable install of this plugin carries (``setup.py``: ``add_mim_extension``).

:func:`register` adds ``mmdistill_plugin`` to that table. It must run before a config that uses
the scope is parsed, i.e. before ``custom_imports`` can import the plugin, so this module is
tiny, top-level and imports nothing heavy:

* a wheel install ships ``mmdistill_plugin-scope.pth``, which runs :func:`register` when the
  interpreter starts: MMAction2's own ``tools/train.py`` / ``tools/test.py`` and
  ``mim train mmaction2 ...`` then accept the scope. Until MMEngine's config module is imported,
  :func:`register` only puts an import hook on ``sys.meta_path`` (nothing is imported);
* the plugin's ``tools/train.py`` / ``tools/test.py`` (what ``mim train mmdistill_plugin`` runs)
  and ``import mmdistill_plugin`` call it too (editable installs have no ``.pth``).

An editable (PEP 660) install keeps the package in the source tree, where MMEngine's
``get_installed_path`` does not look (it joins the dist-info folder with the package name); for
``mmdistill_plugin`` only, :func:`register` makes it fall back to where Python imports the
package from.
"""
import importlib.abc
import importlib.util
import os.path as osp
import sys

SCOPE = 'mmdistill_plugin'
_CONFIG_UTILS = 'mmengine.config.utils'
_CONFIG = 'mmengine.config.config'


def _package_dir():
    spec = importlib.util.find_spec(SCOPE)
    if spec is None or not spec.submodule_search_locations:
        return None
    return list(spec.submodule_search_locations)[0]


def _patch_utils(utils) -> None:
    utils.MODULE2PACKAGE.setdefault(SCOPE, SCOPE)


def _patch_config(config_module) -> None:
    original = config_module.get_installed_path
    if getattr(original, '_mmdistill_scope', False):
        return

    def get_installed_path(package: str) -> str:
        path = original(package)
        if package == SCOPE and not osp.isdir(osp.join(path, '.mim')):
            local = _package_dir()
            if local is not None and osp.isdir(osp.join(local, '.mim')):
                return local
        return path

    get_installed_path._mmdistill_scope = True
    config_module.get_installed_path = get_installed_path


_PATCHES = {_CONFIG_UTILS: _patch_utils, _CONFIG: _patch_config}


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
    """Patches MMEngine's config modules right after they are first imported."""

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


def register() -> None:
    """Let MMEngine's ``Config`` resolve ``mmdistill_plugin::`` base configs (idempotent).

    Patches the MMEngine config modules already imported and hooks the import of the others.
    """
    for name, patch in _PATCHES.items():
        if name in sys.modules:
            patch(sys.modules[name])
    if not all(name in sys.modules for name in _PATCHES) and \
            not any(isinstance(f, _ImportHook) for f in sys.meta_path):
        sys.meta_path.insert(0, _ImportHook())
