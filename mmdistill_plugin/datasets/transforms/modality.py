# Copyright (c) mmdistill contributors.
"""Modality masking for the student: ``ModalityDropout`` (train) and ``MissingModalities``
(test). Both edit only ``results['modality_mask']``, never ``modality_present`` nor the data, so
the teacher still sees every loaded modality."""
import difflib
import logging
from typing import Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from mmaction.registry import TRANSFORMS

#: Every modality key a loader / transform of the plugin writes into ``modality_present``.
KNOWN_MODALITIES = ('rgb', 'flow', 'audio', 'boxes', 'depth', 'rgb_diff', 'boxes_image')


def check_modality_names(names, owner: str, arg: str) -> Optional[Tuple[str, ...]]:
    """``names`` as a tuple, after checking it is a list of known modality keys.

    Args:
        names: a list / tuple of modality names, or None (returned as None).
        owner: the transform's name, for the message.
        arg: the argument's name, for the message.

    Raises:
        TypeError: ``names`` is a string (``'audio'`` would silently match nothing: a string is
            a sequence of letters) or not a sequence of strings; the message gives the fix.
        ValueError: a name is not in :data:`KNOWN_MODALITIES`; the message lists the unknown
            names with their closest known match (``'audoi'`` -> ``'audio'``).
    """
    if names is None:
        return None
    if isinstance(names, str):
        raise TypeError(f'{owner}({arg}={names!r}): {arg} must be a list of modality names, '
                        f'not a string; write {arg}=[{names!r}]')
    try:
        names = tuple(names)
    except TypeError:
        raise TypeError(f'{owner}({arg}={names!r}): {arg} must be a list of modality names')
    if not all(isinstance(n, str) for n in names):
        raise TypeError(f'{owner}({arg}={names!r}): {arg} must be a list of strings')
    unknown = [n for n in names if n not in KNOWN_MODALITIES]
    if unknown:
        hints = []
        for n in unknown:
            close = difflib.get_close_matches(n.lower(), KNOWN_MODALITIES, n=1, cutoff=0.5)
            hints.append(f'{n!r} (did you mean {close[0]!r}?)' if close else repr(n))
        raise ValueError(f'{owner}: unknown modalities in {arg}: {", ".join(hints)}; known '
                         f'modalities are {list(KNOWN_MODALITIES)}')
    return names


def _sample_name(results: dict) -> str:
    for key in ('narration_id', 'video_id', 'filename', 'frame_dir', 'sample_idx'):
        if results.get(key) is not None:
            return f'{key}={results[key]!r}'
    return 'a sample without id'


def check_loaded(names, results: dict, owner: str, arg: str) -> None:
    """Raise ``ValueError`` naming the sample when a name in ``names`` was not loaded.

    "Loaded" is a key of ``results['modality_present']`` (set by every loader, True or False):
    a modality the dataset does not load would silently never be dropped.
    """
    loaded = results.get('modality_present', {})
    missing = [n for n in names if n not in loaded]
    if missing:
        raise ValueError(f'{owner}: {arg} names {missing}, which the dataset does not load '
                         f'(sample {_sample_name(results)} has {list(loaded)}); fix {arg} or '
                         'the dataset\'s modalities / loaders')


def _available(results: dict, modalities: Optional[Sequence[str]]):
    """(mask, candidates): candidates = modalities present and currently unmasked."""
    if 'modality_present' not in results:
        raise KeyError('results has no "modality_present": run the loaders first')
    present = results['modality_present']
    mask = dict(results.get('modality_mask', present))
    for m in present:  # keep the invariant mask ⊆ present
        mask[m] = bool(mask.get(m, False) and present[m])
    order = list(results.get('modalities', present.keys()))
    order += [m for m in present if m not in order]
    cands = [m for m in order if mask.get(m, False)
             and (modalities is None or m in modalities)]
    return mask, cands


@TRANSFORMS.register_module()
class ModalityDropout(BaseTransform):
    """Drop each available modality from the student's ``modality_mask`` with probability ``p``.

    Candidates are the modalities with ``modality_mask[m]`` True (restricted to ``modalities`` if
    given). Draws use numpy's global RNG (``np.random.rand``), seeded by mmengine's
    ``randomness`` / worker seeding. With ``keep_at_least_one`` and every unmasked modality
    dropped, one of them (uniformly, ``np.random.randint``) is kept: the effective per-modality
    drop rate over ``n`` candidates is ``p - p**n / n`` when all ``n`` are candidates.

    Raises:
        ValueError: ``p`` outside [0, 1]; a name in ``modalities`` that is no known modality
            (with the closest match), or (at a sample) that the dataset does not load (naming
            the sample).
        TypeError: ``modalities`` is a string instead of a list.
    """

    def __init__(self, p: float = 0.5, keep_at_least_one: bool = True,
                 modalities: Optional[Sequence[str]] = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f'p must be in [0, 1], got {p}')
        self.p = p
        self.keep_at_least_one = keep_at_least_one
        self.modalities = check_modality_names(modalities, 'ModalityDropout', 'modalities')

    def transform(self, results: dict) -> dict:
        if self.modalities is not None:
            check_loaded(self.modalities, results, 'ModalityDropout', 'modalities')
        mask, cands = _available(results, self.modalities)
        drop = np.random.rand(len(cands)) < self.p
        dropped = [m for m, d in zip(cands, drop) if d]
        if self.keep_at_least_one and dropped:
            remaining = [m for m, v in mask.items() if v and m not in dropped]
            if not remaining:
                dropped.pop(int(np.random.randint(len(dropped))))
        for m in dropped:
            mask[m] = False
        results['modality_mask'] = mask
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(p={self.p}, keep_at_least_one='
                f'{self.keep_at_least_one}, modalities={self.modalities})')


@TRANSFORMS.register_module()
class MissingModalities(BaseTransform):
    """Test-time removal of modalities from the student's ``modality_mask``.

    Either a fixed list ``drop`` or, with ``p``, an independent drop of each unmasked modality with
    probability ``p`` using ``np.random.default_rng([seed, results['sample_idx']])`` (``seed``
    None -> 0), so a robustness sweep is reproducible whatever the worker / order. With
    ``keep_at_least_one`` it never masks every modality: the fixed-list case keeps the first one
    in ``results['modalities']`` order (warning once), the random case keeps one chosen by the
    sample's RNG.

    Raises:
        ValueError: ``p`` outside [0, 1] or given with ``drop``; a name in ``drop`` that is no
            known modality (with the closest match), or (at a sample) that the dataset does not
            load (naming the sample).
        TypeError: ``drop`` is a string instead of a list.
    """

    _warned = False

    def __init__(self, drop: Sequence[str] = (), p: Optional[float] = None,
                 seed: Optional[int] = None, keep_at_least_one: bool = True) -> None:
        if p is not None and not 0.0 <= p <= 1.0:
            raise ValueError(f'p must be in [0, 1], got {p}')
        if p is not None and drop:
            raise ValueError('give either drop=[...] or p, not both')
        self.drop = check_modality_names(drop, 'MissingModalities', 'drop') or ()
        self.p = p
        self.seed = seed
        self.keep_at_least_one = keep_at_least_one

    def transform(self, results: dict) -> dict:
        check_loaded(self.drop, results, 'MissingModalities', 'drop')
        mask, cands = _available(results, None)
        if self.p is None:
            dropped = [m for m in cands if m in self.drop]
            if self.keep_at_least_one and dropped and len(dropped) == len(cands):
                if not MissingModalities._warned:
                    MissingModalities._warned = True
                    print_log(f'MissingModalities(drop={self.drop}) would mask every modality;'
                              f' keeping {dropped[0]!r}', logger='current',
                              level=logging.WARNING)
                dropped = dropped[1:]
        else:
            idx = int(results.get('sample_idx', 0))
            rng = np.random.default_rng([0 if self.seed is None else int(self.seed), idx])
            d = rng.random(len(cands)) < self.p
            dropped = [m for m, x in zip(cands, d) if x]
            if self.keep_at_least_one and dropped and len(dropped) == len(cands):
                dropped.pop(int(rng.integers(len(dropped))))
        for m in dropped:
            mask[m] = False
        results['modality_mask'] = mask
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(drop={self.drop}, p={self.p}, seed={self.seed}, '
                f'keep_at_least_one={self.keep_at_least_one})')
