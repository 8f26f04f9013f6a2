# Copyright (c) mmdistill contributors.
"""The checkpoint files of a work dir: is a checkpoint complete, which one ``last_checkpoint``
names, and which one a run resumes from.

``last_checkpoint`` (mmengine's pointer to the newest checkpoint) is written by
:func:`write_last_checkpoint` atomically and *relative to the work dir* (``epoch_3.pth``), so a
copied or moved work dir points at its own files. :func:`read_last_checkpoint` also accepts the
absolute paths plain mmengine writes.
"""
import logging
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

from mmengine.logging import print_log

from .atomic_local_backend import atomic_write

POINTER = 'last_checkpoint'


def _is_uri(path: str) -> bool:
    return '://' in path


def _warn(msg: str) -> None:
    print_log(msg, logger='current', level=logging.WARNING)


def is_intact_checkpoint(path: str) -> bool:
    """Whether ``path`` is a complete ``torch.save`` file (not truncated, not corrupted).

    A zip-format checkpoint (torch >= 1.6 default) is checked without unpickling: its central
    directory must be readable (a truncated file has none) and every member's CRC-32 must match
    (:meth:`zipfile.ZipFile.testzip`). Any other file is checked by loading it with
    ``torch.load`` on the CPU. Directories (DeepSpeed checkpoints) count as intact.
    """
    if osp.isdir(path):
        return True
    if not osp.isfile(path) or osp.getsize(path) == 0:
        return False
    if zipfile.is_zipfile(path):
        try:
            with zipfile.ZipFile(path) as zf:
                return zf.testzip() is None
        except (zipfile.BadZipFile, OSError, EOFError, RuntimeError, ValueError):
            return False
    try:
        import torch
        torch.load(path, map_location='cpu', weights_only=False)
        return True
    except Exception:  # noqa: BLE001  (any failure to load means torn)
        return False


def write_last_checkpoint(work_dir: str, checkpoint: str) -> str:
    """Atomically point ``<work_dir>/last_checkpoint`` at ``checkpoint``.

    The pointer holds the path relative to ``work_dir`` when ``checkpoint`` is a local file
    inside it, else ``checkpoint`` unchanged (a URI, or a file outside the work dir).

    Returns:
        The text written.
    """
    text = checkpoint
    if not _is_uri(checkpoint):
        rel = osp.relpath(osp.abspath(checkpoint), osp.abspath(work_dir))
        if not rel.startswith(os.pardir):
            text = rel
    atomic_write(text.encode('utf-8'), osp.join(work_dir, POINTER))
    return text


def read_last_checkpoint(work_dir: str, must_exist: bool = True) -> Optional[str]:
    """The checkpoint ``<work_dir>/last_checkpoint`` names, resolved against ``work_dir``.

    * a relative path (what :func:`write_last_checkpoint` writes) is joined to ``work_dir``;
    * an absolute path (plain mmengine) is used when it exists, unless it lies outside
      ``work_dir`` while ``work_dir`` holds a file of the same name (a copied work dir): that
      file is used, with a warning;
    * an absolute path that no longer exists falls back to ``work_dir/<basename>`` with a
      warning when that exists;
    * a URI is returned unchanged.

    Args:
        work_dir: the run's work dir.
        must_exist: raise when the pointer or the file it names is missing; else return None
            for a missing pointer and the unresolved path for a missing file.

    Raises:
        FileNotFoundError: (``must_exist``) no ``last_checkpoint`` in ``work_dir``, or the file it
            names does not exist (the message names both).
        ValueError: ``last_checkpoint`` is empty.
    """
    pointer = osp.join(work_dir, POINTER)
    if not osp.isfile(pointer):
        if must_exist:
            raise FileNotFoundError(f'{work_dir} is a directory without a last_checkpoint file; '
                                    'give the checkpoint file itself')
        return None
    with open(pointer) as f:
        target = f.read().strip()
    if not target:
        raise ValueError(f'{pointer} is empty (a run killed while writing it?); give the '
                         'checkpoint file itself')
    if _is_uri(target):
        return target
    if not osp.isabs(target):
        path = osp.join(work_dir, target)
        if must_exist and not osp.exists(path):
            raise FileNotFoundError(f'{pointer} names {target}, but {path} does not exist')
        return path
    local = osp.join(work_dir, osp.basename(target))
    same_dir = osp.realpath(osp.dirname(target)) == osp.realpath(work_dir)
    if osp.exists(target) and (same_dir or not osp.exists(local)):
        return target
    if osp.exists(local):
        why = 'lies outside' if osp.exists(target) else 'no longer exists; found it in'
        _warn(f'{pointer} names {target}, which {why} {work_dir} (a copied or moved work '
              f'dir?); using {local}')
        return local
    if must_exist:
        raise FileNotFoundError(f'{pointer} names {target}, which does not exist (nor does '
                                f'{local})')
    return target


def _step_regex(filename_tmpl: str) -> 're.Pattern':
    return re.compile('^' + re.escape(filename_tmpl).replace(r'\{\}', r'(\d+)') + '$')


def numbered_checkpoints(ckpt_dir: str, filename_tmpl: str = 'epoch_{}.pth'
                         ) -> List[Tuple[int, str]]:
    """``(step, path)`` of the files in ``ckpt_dir`` named by ``filename_tmpl``, newest first."""
    if not osp.isdir(ckpt_dir):
        return []
    regex = _step_regex(filename_tmpl)
    found = []
    for name in os.listdir(ckpt_dir):
        m = regex.match(name)
        if m:
            found.append((int(m.group(1)), osp.join(ckpt_dir, name)))
    return sorted(found, reverse=True)


def find_resumable_checkpoint(work_dir: str, ckpt_dir: Optional[str] = None,
                              filename_tmpl: str = 'epoch_{}.pth') -> Optional[str]:
    """The newest intact checkpoint to resume ``work_dir``'s run from, or None for none.

    Candidates are the file ``last_checkpoint`` names (resolved by
    :func:`read_last_checkpoint`) and every ``filename_tmpl`` file in ``ckpt_dir`` (default
    ``work_dir``), newest step first; the first intact one (:func:`is_intact_checkpoint`) wins.
    Each torn candidate skipped, and a ``last_checkpoint`` naming another file than the one
    chosen (stale, missing), is reported with a warning naming the file.
    """
    ckpt_dir = ckpt_dir or work_dir
    try:
        named = read_last_checkpoint(work_dir, must_exist=False)
    except ValueError as err:  # empty pointer
        _warn(str(err))
        named = None
    candidates = numbered_checkpoints(ckpt_dir, filename_tmpl)
    if named is not None and not _is_uri(named):
        m = _step_regex(filename_tmpl).match(osp.basename(named))
        step = int(m.group(1)) if m else float('inf')
        paths = {osp.realpath(p) for _, p in candidates}
        if osp.realpath(named) not in paths:
            candidates.append((step, named))
        candidates.sort(key=lambda c: c[0], reverse=True)
    elif named is not None:  # a URI: trust it, the remote store is not ours to scan
        return named
    chosen = None
    for _, path in candidates:
        if not osp.exists(path):
            continue
        if is_intact_checkpoint(path):
            chosen = path
            break
        _warn(f'Checkpoint {path} is torn (truncated or corrupted: a run killed while saving '
              'it?); skipping it')
    if named is not None and chosen is not None \
            and osp.realpath(named) != osp.realpath(chosen):
        state = 'is torn' if osp.exists(named) else 'does not exist'
        _warn(f'{osp.join(work_dir, POINTER)} names {named}, which {state}; resuming from the '
              f'newest intact checkpoint {chosen} instead')
    elif named is None and chosen is not None:
        _warn(f'{work_dir} has no readable last_checkpoint; resuming from the newest intact '
              f'checkpoint {chosen}')
    elif chosen is None and candidates:
        _warn(f'No intact checkpoint in {ckpt_dir} (every candidate is torn or missing: '
              f'{[p for _, p in candidates]}); training starts from scratch')
    return chosen
