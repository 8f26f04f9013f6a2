# Copyright (c) mmdistill contributors.
"""Helpers shared by the multimodal loaders and datasets (modality flags, warn-once logging,
file access through ``mmengine.fileio`` with ``backend_args``, image decoding that names the
file, sample names for messages)."""
import logging
from typing import Optional, Set

import numpy as np
from mmengine import fileio
from mmengine.logging import print_log

VISUAL_MODALITIES = ('rgb', 'flow', 'depth', 'rgb_diff')

_WARNED: Set[str] = set()


def warn_once(key: str, msg: str) -> None:
    """Log ``msg`` as a warning the first time ``key`` (usually a file path) is seen."""
    if key in _WARNED:
        return
    _WARNED.add(key)
    print_log(msg, logger='current', level=logging.WARNING)


SAMPLE_ID_KEYS = ('narration_id', 'video_id', 'id')


def sample_name(results: dict) -> str:
    """``"narration_id='P01_01_7'"`` / ``"video_id='151201'"``: the first of
    :data:`SAMPLE_ID_KEYS` set in ``results`` (``'sample_idx=3'`` or ``'unnamed sample'``
    without one), for messages that must name the sample."""
    for k in SAMPLE_ID_KEYS:
        if results.get(k) is not None:
            return f'{k}={results[k]!r}'
    if results.get('sample_idx') is not None:
        return f'sample_idx={results["sample_idx"]}'
    return 'unnamed sample'


def set_present(results: dict, modality: str, present: bool) -> None:
    """Set ``modality_present[modality]`` and initialise ``modality_mask[modality]`` to it."""
    results.setdefault('modality_present', {})[modality] = bool(present)
    results.setdefault('modality_mask', {})[modality] = bool(present)


def check_file(path: str, what: str, backend_args: Optional[dict] = None) -> None:
    """Raise ``FileNotFoundError`` naming ``path`` when ``mmengine.fileio.exists`` says it does
    not exist (local disk by default; ``backend_args`` selects another storage backend, e.g.
    ``dict(backend='petrel')`` or ``dict(backend='lmdb', db_path=...)``)."""
    if not fileio.exists(path, backend_args=backend_args):
        raise FileNotFoundError(f'{what} not found: {path}')


def read_bytes(path: str, what: str, backend_args: Optional[dict] = None) -> bytes:
    """The bytes of ``path`` through ``mmengine.fileio.get`` (the one place the loaders read a
    whole file).

    Raises:
        FileNotFoundError: ``{what} not found: {path}``.
    """
    try:
        return fileio.get(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} not found: {path}') from None


def read_text(path: str, what: str, backend_args: Optional[dict] = None) -> str:
    """Text (utf-8) of ``path`` through ``mmengine.fileio.get_text``; errors as
    :func:`read_bytes`."""
    try:
        return fileio.get_text(path, backend_args=backend_args)
    except FileNotFoundError:
        raise FileNotFoundError(f'{what} not found: {path}') from None


def local_path(path: str, what: str, backend_args: Optional[dict] = None):
    """Context manager yielding a local path of ``path`` (``mmengine.fileio.get_local_path``:
    the path itself on local disk, a temporary copy for remote backends), for readers that
    seek (decord, wav segments). Checks existence first (``FileNotFoundError`` naming it)."""
    check_file(path, what, backend_args)
    return fileio.get_local_path(path, backend_args=backend_args)


def decode_image(buf: bytes, path: str, flag: str = 'color') -> np.ndarray:
    """``mmcv.imfrombytes(buf, flag)`` (BGR for colour images) with every decoder failure turned
    into ``ValueError`` naming ``path``: an empty buffer (OpenCV's ``!buf.empty()`` assertion),
    any backend exception (``cv2.error``, PIL / turbojpeg errors) and a ``None`` result
    (truncated or corrupt data)."""
    import mmcv
    if not buf:
        raise ValueError(f'cannot decode image {path}: the file is empty (0 bytes)')
    try:
        img = mmcv.imfrombytes(buf, flag=flag)
    except Exception as err:  # cv2.error and the other backends' errors
        raise ValueError(f'cannot decode image {path} ({len(buf)} bytes): '
                         f'{type(err).__name__}: {str(err).strip()}') from err
    if img is None:
        raise ValueError(f'cannot decode image {path} ({len(buf)} bytes): not a valid image '
                         f'(truncated or corrupt)')
    return img


def read_image(path: str, flag: str = 'color', what: str = 'frame',
               backend_args: Optional[dict] = None) -> np.ndarray:
    """:func:`read_bytes` + :func:`decode_image`: ``FileNotFoundError`` (missing) or
    ``ValueError`` (empty / undecodable), both naming ``path``."""
    return decode_image(read_bytes(path, what, backend_args), path, flag)


def check_frame_template(tmpl: str, what: str, with_component: bool = False) -> str:
    """Refuse a frame filename template that cannot name numbered frames; return it.

    ``tmpl.format(i)`` (``tmpl.format(component, i)`` with ``with_component``) must give a
    different name for every frame index ``i`` (and every component): a template without an
    index field names one file for all frames (counting the frames of such a folder never
    ended).

    Raises:
        ValueError: naming ``what`` and the template: it does not format, has no index field
            or no component field.
    """
    lead = ('x', ) if with_component else ()
    example = "'{}_{:05d}.jpg'" if with_component else "'img_{:05d}.jpg'"
    try:
        one, two = tmpl.format(*lead, 1), tmpl.format(*lead, 2)
        other = tmpl.format('y', 1) if with_component else one
    except (IndexError, KeyError, ValueError, TypeError, AttributeError) as err:
        raise ValueError(f'{what} {tmpl!r} is not a positional format template '
                         f'({type(err).__name__}: {err}); e.g. {example}') from None
    if one == two:
        raise ValueError(f'{what} {tmpl!r} has no frame-index field: it names one file for '
                         f'every frame ({one!r}); e.g. {example}')
    if with_component and other == one:
        raise ValueError(f'{what} {tmpl!r} has no flow-component field before the index: '
                         f'x and y would be one file ({one!r}); e.g. {example}')
    return tmpl
