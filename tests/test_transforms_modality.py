"""ModalityDropout (train) and MissingModalities (test) edit only modality_mask."""
import numpy as np
import pytest

import mmdistill_plugin  # noqa: F401
from mmaction.registry import TRANSFORMS

MODS = ('rgb', 'flow', 'audio')


def _res(idx=0, present=None):
    present = present or {m: True for m in MODS}
    return dict(modalities=MODS, sample_idx=idx, modality_present=dict(present),
                modality_mask=dict(present), rgb=np.ones((2, 2)))


def test_dropout_never_all_and_present_unchanged():
    np.random.seed(0)
    t = TRANSFORMS.build(dict(type='ModalityDropout', p=0.9))
    for _ in range(2000):
        r = t(_res())
        assert any(r['modality_mask'].values())
        assert r['modality_present'] == {m: True for m in MODS}
        assert (r['rgb'] == 1).all()


def test_dropout_rate_matches_p():
    p, n = 0.5, 20000
    np.random.seed(123)
    t = TRANSFORMS.build(dict(type='ModalityDropout', p=p, keep_at_least_one=False))
    rate = np.mean([[not v for v in t(_res())['modality_mask'].values()] for _ in range(n)])
    assert abs(rate - p) < 0.01
    np.random.seed(123)
    t = TRANSFORMS.build(dict(type='ModalityDropout', p=p))
    rate = np.mean([[not v for v in t(_res())['modality_mask'].values()] for _ in range(n)])
    assert abs(rate - (p - p**3 / 3)) < 0.01  # one of the all-dropped draws is kept


def test_dropout_respects_absent_and_subset():
    np.random.seed(0)
    pres = dict(rgb=True, flow=False, audio=True)
    t = TRANSFORMS.build(dict(type='ModalityDropout', p=1.0, modalities=['audio']))
    r = t(_res(present=pres))
    assert r['modality_mask'] == dict(rgb=True, flow=False, audio=False)
    r = TRANSFORMS.build(dict(type='ModalityDropout', p=1.0))(_res(present=pres))
    assert sum(r['modality_mask'].values()) == 1 and r['modality_mask']['flow'] is False
    assert r['modality_present'] == pres


def test_missing_modalities_fixed_and_seeded():
    r = TRANSFORMS.build(dict(type='MissingModalities', drop=['flow', 'audio']))(_res())
    assert r['modality_mask'] == dict(rgb=True, flow=False, audio=False)
    r = TRANSFORMS.build(dict(type='MissingModalities', drop=list(MODS)))(_res())
    assert r['modality_mask'] == dict(rgb=True, flow=False, audio=False)  # keeps the first
    t = TRANSFORMS.build(dict(type='MissingModalities', p=0.5, seed=7))
    a = [t(_res(i))['modality_mask'] for i in range(200)]
    b = [t(_res(i))['modality_mask'] for i in reversed(range(200))][::-1]
    assert a == b  # depends only on (seed, sample_idx), not on call order
    assert all(any(m.values()) for m in a)
    assert len({tuple(m.values()) for m in a}) > 3
    c = [TRANSFORMS.build(dict(type='MissingModalities', p=0.5, seed=8))(_res(i))['modality_mask']
         for i in range(200)]
    assert a != c
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type='MissingModalities', drop=['rgb'], p=0.3))


def test_dropout_keeps_a_uniformly_chosen_modality_when_all_drop():
    # p=1 drops every candidate, so keep-at-least-one decides alone which one survives:
    # each of the 3 must be kept ~1/3 of the time (always keeping the first would give 1, 0, 0).
    np.random.seed(0)
    t = TRANSFORMS.build(dict(type='ModalityDropout', p=1.0))
    kept = [next(m for m, v in t(_res())['modality_mask'].items() if v) for _ in range(3000)]
    freq = {m: kept.count(m) / len(kept) for m in MODS}
    assert all(abs(f - 1 / 3) < 0.04 for f in freq.values()), freq
    # rgb absent on disk: the kept one is uniform over the two that are there
    pres = dict(rgb=False, flow=True, audio=True)
    masks = [t(_res(present=pres))['modality_mask'] for _ in range(2000)]
    assert all(not m['rgb'] and m['flow'] != m['audio'] for m in masks)
    assert abs(np.mean([m['flow'] for m in masks]) - 0.5) < 0.05


def test_missing_modalities_random_keeps_a_uniformly_chosen_one():
    t = TRANSFORMS.build(dict(type='MissingModalities', p=1.0, seed=3))
    kept = [next(m for m, v in t(_res(i))['modality_mask'].items() if v) for i in range(3000)]
    freq = {m: kept.count(m) / len(kept) for m in MODS}
    assert all(abs(f - 1 / 3) < 0.04 for f in freq.values()), freq
