# Copyright (c) mmdistill contributors.
"""Helpers shared by the multimodal loaders (modality flags, warn-once logging)."""
import logging
import os.path as osp
from typing import Set

from mmengine.logging import print_log

VISUAL_MODALITIES = ('rgb', 'flow', 'depth', 'rgb_diff')

_WARNED: Set[str] = set()


def warn_once(key: str, msg: str) -> None:
    """Log ``msg`` as a warning the first time ``key`` (usually a file path) is seen."""
    if key in _WARNED:
        return
    _WARNED.add(key)
    print_log(msg, logger='current', level=logging.WARNING)


def set_present(results: dict, modality: str, present: bool) -> None:
    """Set ``modality_present[modality]`` and initialise ``modality_mask[modality]`` to it."""
    results.setdefault('modality_present', {})[modality] = bool(present)
    results.setdefault('modality_mask', {})[modality] = bool(present)


def check_file(path: str, what: str) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` when it does not exist locally."""
    if not osp.exists(path):
        raise FileNotFoundError(f'{what} not found: {path}')
