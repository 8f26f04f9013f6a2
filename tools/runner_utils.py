"""Runner construction shared by ``tools/train.py`` and ``tools/test.py``.

It deliberately does not import ``mmdistill_plugin``: configs import it with ``custom_imports``.
"""
from mmengine.config import Config
from mmengine.runner import Runner

PLUGIN = 'mmdistill_plugin'


def register_config_scope() -> None:
    """Let MMEngine resolve ``mmdistill_plugin::`` base configs before CONFIG is parsed (and
    MMAction2 1.2.0's release import), without importing the plugin's components
    (``custom_imports`` does that; see ``mmdistill_plugin_startup``)."""
    try:
        import mmdistill_plugin_startup
    except ImportError:  # the plugin is not installed: nothing to resolve
        return
    mmdistill_plugin_startup.install()


def uses_plugin_import(cfg: Config) -> bool:
    """Whether the config imports the plugin through ``custom_imports``."""
    imports = (cfg.get('custom_imports') or {}).get('imports', [])
    if isinstance(imports, str):
        imports = [imports]
    return any(name == PLUGIN or name.startswith(PLUGIN + '.') for name in imports)


def build_runner(cfg: Config) -> Runner:
    """``Runner.from_cfg`` with a clear message when a plugin component is not registered.

    Raises:
        KeyError: when the config names a type no registry knows; if the config does not import
            the plugin, the message says to add ``custom_imports``.
    """
    try:
        return Runner.from_cfg(cfg)
    except KeyError as err:
        if 'is not in the' in str(err) and not uses_plugin_import(cfg):
            raise KeyError(
                f'{err.args[0]}\nThis config does not import mmdistill. Add\n'
                f"    custom_imports = dict(imports=['{PLUGIN}'], allow_failed_imports=False)\n"
                'to it (or inherit one of the configs in configs/).') from err
        raise


def run_main(main) -> None:
    """Run ``tools/train.py``'s or ``tools/test.py``'s ``main()`` and exit:
    :func:`mmdistill_plugin.utils.compat.run_main` (the process group destroyed whatever happens;
    a distributed rank ends without the interpreter's teardown, where a leftover gloo thread can
    abort it: fix 6 of that module). The plugin is imported only once ``main`` has run, so a
    config that does not import it fails as it does with MMAction2's own tools."""
    try:
        result, error = main(), None
    except BaseException as err:  # raised again by compat.run_main, once it closed the group
        result, error = None, err
    from mmdistill_plugin.utils.compat import run_main as run

    def outcome():
        if error is not None:
            raise error
        return result
    run(outcome)
