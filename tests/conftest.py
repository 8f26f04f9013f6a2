"""Shared test fixtures. The suite runs in parallel with pytest-xdist (as ``.ci/run``:
``pytest tests -n 2 --dist worksteal``) or serially (``pytest tests``). The expensive fixtures
are built once per test session and shared by every test (and every xdist worker), read-only:

- ``toy_data``: the tiny toy datasets (``epic/``, ``sthv2/``), generated once;
  ``toy_data_sthv2_64``: the same with 64-px SSv2 videos (what decord decodes).
- ``toy_workspace``: a fresh folder per test with ``data/toy`` linked to ``toy_data``; run the
  toy configs (``configs/*/toy/*.py``, which read ``data/toy``) with it as the cwd.
- ``toy_workspace_copy``: the same with a private copy of the toy data, for tests that change it.
- ``toy_teacher_epic``: the toy KARMMA EPIC teacher trained once (1 epoch, seed 0) through
  ``tools/train.py``'s code; ``toy_workspace_with_teacher``: a ``toy_workspace`` where
  ``work_dirs/toy_teacher_epic`` (the path the toy student configs name) is that teacher.

Shared folders are checked at the end of the session: a test that wrote into one fails there
(copy what you change: ``shutil.copytree``, ``toy_workspace_copy``). For module-scoped set-ups
use ``link_toy(folder, toy_data)``. To run the tools, see ``tests/e2e_utils.py``: in-process
(``train_in_process``, ``tools_test_in_process``, ``call_tool``) unless the process itself is
what the test checks (``run_tool``).
"""
import os
import os.path as osp
import shutil
from pathlib import Path

import pytest
from filelock import FileLock

import mmdistill_plugin  # noqa: F401  (registers everything)
from mmaction.utils import register_all_modules

# Configs run with default_scope='mmaction'; do the same for models built in tests.
register_all_modules(init_default_scope=True)


def _memoize_config_formatting():
    """Format each config text with yapf once per process.

    mmengine formats the whole config with yapf for every ``Config.pretty_text``: a runner does
    it at least four times for the same config (dumped file, visualizer, log, message hub) and
    once more per checkpoint, ~5 s of CPU each for the toy configs (~45,000 characters). The
    formatting is a pure function of its input, so caching it changes no output.
    """
    import mmengine.config.config as mm_config
    format_code = mm_config.FormatCode
    if getattr(format_code, 'memoized', False):
        return
    cache = {}

    def memoized(source, **kwargs):
        key = (source, repr(sorted(kwargs.items())))
        if key not in cache:
            cache[key] = format_code(source, **kwargs)
        return cache[key]

    memoized.memoized = True
    mm_config.FormatCode = memoized


_memoize_config_formatting()

if os.environ.get('PYTEST_XDIST_WORKER'):
    # pytest-xdist workers (``-n 2``) share the cores: one intra-op thread each, as the tools run
    # by ``e2e_utils.run_tool`` (OMP_NUM_THREADS=1)
    import torch
    torch.set_num_threads(1)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / 'shared' / 'data'


def require_shared_data(path=SHARED_DATA, env=None):
    """``path`` if it is a directory; else skip the test, or fail it under ``CI=true``.

    CI must run the real-data tests: a missing ``../shared/data`` there would otherwise turn
    every one of them into a silent skip.
    """
    env = os.environ if env is None else env
    if not osp.isdir(path):
        if str(env.get('CI', '')).lower() == 'true':
            pytest.fail(f'{path} is absent but CI=true: the real-data tests need ../shared/data '
                        'beside the repository', pytrace=False)
        pytest.skip(f'{path} is absent')
    return path


def pytest_sessionstart(session):
    """Under ``CI=true`` stop at once when ``../shared/data`` is absent.

    Several real-data tests skip through their own ``skipif`` markers (not the fixture); this
    makes ``.ci/run`` fail instead of reporting them as skipped.
    """
    if str(os.environ.get('CI', '')).lower() == 'true' and not osp.isdir(SHARED_DATA):
        pytest.exit(f'{SHARED_DATA} is absent but CI=true: the real-data tests need '
                    '../shared/data beside the repository', returncode=1)


@pytest.fixture
def shared_data():
    """``../shared/data`` (real annotation files, clips, boxes); skip when absent (fail under
    ``CI=true``)."""
    return require_shared_data()


# ------------------------------------------------------------- session-wide toy data and runs
def link_toy(root, toy_data):
    """``root/data/toy`` -> ``toy_data`` (a symlink); returns ``root``."""
    root = Path(root)
    (root / 'data').mkdir(parents=True, exist_ok=True)
    (root / 'data' / 'toy').symlink_to(toy_data, target_is_directory=True)
    return root


def _manifest(root):
    """``{relative path: (size, mtime_ns)}`` of every file under ``root``."""
    out = {}
    for folder, _, files in os.walk(root):
        for f in files:
            st = os.stat(osp.join(folder, f))
            out[osp.relpath(osp.join(folder, f), root)] = (st.st_size, st.st_mtime_ns)
    return out


def _built_once(tmp_path_factory, request, name, build):
    """``build(folder)`` once per session into a folder shared by the pytest-xdist workers of the
    session (the first worker to need it builds it, the others wait); then the folder is checked
    unchanged when this worker's session ends."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get('PYTEST_XDIST_WORKER'):
        base = base.parent  # the session's folder above the workers' own
    target, done = base / name, base / f'{name}.done'
    with FileLock(str(base / f'{name}.lock')):
        if not done.exists():
            shutil.rmtree(target, ignore_errors=True)  # a failed earlier attempt
            target.mkdir()
            build(target)
            done.touch()
    before = _manifest(target)

    def unchanged():
        after = _manifest(target)
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        assert not changed, (f'a test changed the shared read-only {name} folder {target} '
                             f'(copy it first): {changed[:10]}')

    request.addfinalizer(unchanged)
    return target


@pytest.fixture(scope='session')
def toy_data(tmp_path_factory, request):
    """The tiny toy datasets (``tools/data/generate_toy_dataset.py --scale tiny --seed 0``, i.e.
    ``generate(scale='tiny', seed=0, workers=1)``): the folder that holds ``epic/`` and
    ``sthv2/``. Generated once per session; read-only."""
    from e2e_utils import load_tool
    gen = load_tool('tools/data/generate_toy_dataset.py')
    return _built_once(tmp_path_factory, request, 'toy_data', lambda d: gen.generate(
        str(d), seed=0, scale='tiny', workers=1, verbose=False))


@pytest.fixture(scope='session')
def toy_data_sthv2_64(tmp_path_factory, request):
    """``toy_data`` with 64-px SSv2 videos (``sthv2_size=64``): decord decodes these mp4v files
    exactly (it fails on the default 48-px rows), for MMAction2's video pipeline. Generated once
    per session; read-only."""
    from e2e_utils import load_tool
    gen = load_tool('tools/data/generate_toy_dataset.py')
    return _built_once(tmp_path_factory, request, 'toy_data_sthv2_64', lambda d: gen.generate(
        str(d), seed=0, scale='tiny', workers=1, verbose=False, sthv2_size=64))


@pytest.fixture
def toy_workspace(tmp_path, toy_data):
    """``tmp_path`` with ``data/toy`` linked to ``toy_data`` (read-only): the cwd for the toy
    configs."""
    return link_toy(tmp_path, toy_data)


@pytest.fixture
def toy_workspace_copy(tmp_path, toy_data):
    """``tmp_path`` with its own copy of the toy data in ``data/toy`` (for tests that change
    it)."""
    shutil.copytree(toy_data, tmp_path / 'data' / 'toy', symlinks=True)
    return tmp_path


# The toy teacher run: what tests/test_e2e_toy.py always trained (tools/train.py's arguments).
TOY_TEACHER_EPIC_ARGS = ['configs/karmma/toy/teacher_epic.py', '--work-dir',
                         'work_dirs/toy_teacher_epic', '--seed', '0', '--cfg-options',
                         'train_cfg.max_epochs=1']


@pytest.fixture(scope='session')
def toy_teacher_epic(tmp_path_factory, request, toy_data):
    """The work dir of the toy KARMMA EPIC teacher (``configs/karmma/toy/teacher_epic.py``)
    trained for one epoch with seed 0 by ``tools/train.py``'s code in-process
    (``TOY_TEACHER_EPIC_ARGS`` + ``e2e_utils.SHORT``): ``epoch_1.pth``, a relative
    ``last_checkpoint``, the run's log and dumped config. Trained once per session; read-only
    (``shutil.copytree`` it to change it)."""
    from e2e_utils import SHORT, train_in_process

    def train(root):
        link_toy(root, toy_data)
        train_in_process([REPO / TOY_TEACHER_EPIC_ARGS[0], *TOY_TEACHER_EPIC_ARGS[1:], *SHORT],
                         cwd=root)
        (root / 'data' / 'toy').unlink()

    return _built_once(tmp_path_factory, request, 'toy_teacher_run', train) / \
        'work_dirs' / 'toy_teacher_epic'


@pytest.fixture
def toy_workspace_with_teacher(toy_workspace, toy_teacher_epic):
    """``toy_workspace`` where ``work_dirs/toy_teacher_epic`` (the teacher the toy student
    configs name) links to ``toy_teacher_epic`` (read-only)."""
    (toy_workspace / 'work_dirs').mkdir()
    (toy_workspace / 'work_dirs' / 'toy_teacher_epic').symlink_to(toy_teacher_epic,
                                                                  target_is_directory=True)
    return toy_workspace
