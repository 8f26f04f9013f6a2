# Copyright (c) mmdistill contributors.
"""Crash-safe local writes: a file is either its old content or its complete new content.

:func:`atomic_write` writes to a temporary file in the destination's directory, flushes and
``fsync``\\ s it, renames it over the destination (``os.replace``, atomic on POSIX) and
``fsync``\\ s the directory so the rename itself survives a power cut. A process killed at any
point leaves the destination untouched (plus, at worst, a hidden ``.<name>.<pid>.<hex>.tmp``
file that :func:`remove_stale_temporaries` deletes).

:class:`AtomicLocalBackend` is mmengine's ``LocalBackend`` with ``put`` / ``put_text`` going
through :func:`atomic_write`; it is registered as the file backend ``'atomic_local'`` so that
``mmengine.runner.save_checkpoint(..., backend_args=dict(backend='atomic_local'))`` (what
:class:`~mmdistill_plugin.engine.hooks.AtomicCheckpointHook` passes) never leaves a torn
checkpoint.
"""
import os
import os.path as osp
import re
import uuid
from pathlib import Path
from typing import List, Union

from mmengine.fileio import LocalBackend, register_backend

BACKEND_NAME = 'atomic_local'
_TMP_RE = re.compile(r'^\..+\.\d+\.[0-9a-f]{32}\.tmp$')


def _fsync_dir(dirname: str) -> None:
    try:
        fd = os.open(dirname, os.O_RDONLY)
    except OSError:  # e.g. a platform without directory file descriptors
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` atomically (temporary file, fsync, rename, fsync dir).

    Creates the parent directory if needed. The file gets the usual permissions
    (``0o666`` minus the umask), like ``open(filepath, 'wb')``.

    Raises:
        OSError: the directory cannot be created or written; the destination is then unchanged
            and the temporary file removed.
    """
    filepath = os.fspath(filepath)
    dirname = osp.dirname(osp.abspath(filepath))
    os.makedirs(dirname, exist_ok=True)
    tmp = osp.join(dirname, f'.{osp.basename(filepath)}.{os.getpid()}.{uuid.uuid4().hex}.tmp')
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        if osp.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(dirname)


def remove_stale_temporaries(dirname: str) -> List[str]:
    """Delete the temporary files :func:`atomic_write` left in ``dirname`` when killed.

    Returns:
        The removed paths (only names of the form ``.<name>.<pid>.<32 hex>.tmp``).
    """
    if not osp.isdir(dirname):
        return []
    removed = []
    for name in os.listdir(dirname):
        if _TMP_RE.match(name):
            path = osp.join(dirname, name)
            try:
                os.unlink(path)
                removed.append(path)
            except OSError:
                pass
    return removed


@register_backend(BACKEND_NAME)
class AtomicLocalBackend(LocalBackend):
    """mmengine ``LocalBackend`` whose writes are atomic (see :func:`atomic_write`).

    Select it with ``backend_args=dict(backend='atomic_local')``.
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        """Write bytes to ``filepath`` atomically."""
        atomic_write(obj, filepath)

    def put_text(self, obj: str, filepath: Union[str, Path], encoding: str = 'utf-8') -> None:
        """Write text to ``filepath`` atomically."""
        atomic_write(obj.encode(encoding), filepath)
