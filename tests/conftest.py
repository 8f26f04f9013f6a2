import os.path as osp
from pathlib import Path

import pytest

import mmdistill_plugin  # noqa: F401  (registers everything)
from mmaction.utils import register_all_modules

# Configs run with default_scope='mmaction'; do the same for models built in tests.
register_all_modules(init_default_scope=True)

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / 'shared' / 'data'


@pytest.fixture
def shared_data():
    """``../shared/data`` (real annotation files, clips, boxes); skip when absent."""
    if not osp.isdir(SHARED_DATA):
        pytest.skip(f'{SHARED_DATA} is absent')
    return SHARED_DATA
