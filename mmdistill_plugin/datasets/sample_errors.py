# Copyright (c) mmdistill contributors.
"""Errors raised while loading a sample name the sample (its id and index) first.

A bad file found by a dataloader worker otherwise ends the run with a message that names at best
the frame path; with :class:`SampleNamingMixin` it reads
``sample narration_id='P01_01_7' (index 3): cannot decode image .../frame_0000000017.jpg ...``.
"""
import re

from mmengine.dataset import BaseDataset

from .transforms._utils import sample_name


class SampleKeyError(KeyError):
    """``KeyError`` whose ``str`` is the plain message (``KeyError`` quotes it)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ''


_NAMED = re.compile(r'sample \S.* \(index \d+\): ')


def sample_prefix(info: dict, idx: int) -> str:
    """``"sample narration_id='P01_01_7' (index 3)"`` (see :func:`._utils.sample_name`)."""
    return f'sample {sample_name(info)} (index {idx})'


def name_sample_error(err: Exception, prefix: str) -> Exception:
    """An exception of ``err``'s type (or, when that type cannot be built from one message, a
    ``RuntimeError``) whose message is ``f'{prefix}: {err}'``; ``err`` itself when its message
    already starts with a :func:`sample_prefix` (named by an inner wrapper). Raise it
    ``from err``."""
    text = str(err.args[0]) if isinstance(err, KeyError) and err.args else str(err)
    if _NAMED.match(text):
        return err
    msg = f'{prefix}: {text}'
    if isinstance(err, KeyError):
        return SampleKeyError(msg)
    try:
        new = type(err)(msg)
    except Exception:  # types that need more arguments (UnicodeDecodeError, ...)
        new = None
    if new is None or str(new) != msg:
        new = RuntimeError(f'{prefix}: {type(err).__name__}: {text}')
    return new


def sample_info(dataset: BaseDataset, idx: int) -> dict:
    """The annotation row of ``idx`` without the per-sample probing of ``get_data_info`` (which
    may itself be what fails), for naming the sample."""
    try:
        return BaseDataset.get_data_info(dataset, idx)
    except Exception:
        return {}


class SampleNamingMixin:
    """Put before an mmengine ``BaseDataset`` subclass: any exception of ``prepare_data``
    (``get_data_info`` + the pipeline) is re-raised by :func:`name_sample_error` with the
    sample's id (``narration_id`` / ``video_id`` / ``id``) and index first, chained to the
    original (``raise ... from err``)."""

    def prepare_data(self, idx: int):
        try:
            return super().prepare_data(idx)
        except Exception as err:
            named = name_sample_error(err, sample_prefix(sample_info(self, idx), idx))
            if named is err:
                raise
            raise named from err
