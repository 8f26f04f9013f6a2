import os
import os.path as osp
from pathlib import Path

import pytest

import mmdistill_plugin  # noqa: F401  (registers everything)
from mmaction.utils import register_all_modules

# Configs run with default_scope='mmaction'; do the same for models built in tests.
register_all_modules(init_default_scope=True)

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
