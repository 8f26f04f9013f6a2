"""Teacher-cache storage beyond FKD: fp16 / top-k / 8-bit logits (hand-computed round trips and
KL), and which stored view an epoch replays (per epoch, shuffled, random)."""
import math

import h5py
import numpy as np
import pytest
import torch
from conftest import link_toy
from test_teacher_cache import _cwd, cached_cfg, save_teacher, write_cache

from mmaction.registry import DATA_SAMPLERS, DATASETS
from mmdistill_plugin.utils.cache_codecs import (Int8Codec, TopKCodec, build_codec, choose_view,
                                                 mean_kl, sizes_table)
from mmdistill_plugin.utils.teacher_cache import (FORMAT_VERSION, StaleTeacherCacheError,
                                                  TeacherCacheReader, verify_shard, write_meta,
                                                  write_shard)

LN = math.log
Z = np.array([[LN(4), LN(2), 0.0, 0.0]])  # p = (4, 2, 1, 1) / 8, lse = ln 8


def test_topk_keeps_k_logits_and_spreads_the_rest_as_fkd():
    parts = TopKCodec(k=1).encode(Z)
    assert parts['indices'].tolist() == [[0]] and parts['indices'].dtype == np.uint16
    assert parts['lse'][0] == pytest.approx(LN(8), abs=1e-6)
    out = TopKCodec(k=1).decode(parts, 4)
    # the rest, 1 − 4/8, spread over 3 classes: 1/6 each → logit ln 8 + ln(1/6) = ln(4/3)
    np.testing.assert_allclose(out[0], [LN(4), LN(4 / 3), LN(4 / 3), LN(4 / 3)], atol=1e-3)
    # KL(p ‖ (1/2, 1/6, 1/6, 1/6)) = ¼ ln(¼ · 6) + 2 · ⅛ ln(⅛ · 6) = ¼ ln 1.125 = 0.029446
    assert mean_kl(Z, out) == pytest.approx(0.25 * LN(1.125), abs=2e-4)
    # k = 2: the rest (1/8, 1/8) is uniform already → exact (up to float16)
    assert mean_kl(Z, TopKCodec(k=2).decode(TopKCodec(k=2).encode(Z), 4)) < 1e-6
    # k >= C: every logit stored
    np.testing.assert_allclose(TopKCodec(k=9).decode(TopKCodec(k=9).encode(Z), 4), Z,
                               atol=1e-3)


def test_int8_error_is_at_most_half_a_step():
    z = np.array([[0.0, 1.0, 2.55], [0.0, 0.004, 2.55]])
    parts = Int8Codec().encode(z)
    assert parts['q'].tolist() == [[0, 100, 255], [0, 0, 255]]   # step 2.55 / 255 = 0.01
    out = Int8Codec().decode(parts, 3)
    np.testing.assert_allclose(out[0], z[0], atol=1e-6)
    assert abs(out[1, 1] - 0.004) == pytest.approx(0.004, abs=1e-6)  # ≤ 0.005 = step / 2
    flat = Int8Codec().decode(Int8Codec().encode(np.full((1, 5), 3.0)), 5)
    np.testing.assert_allclose(flat, 3.0)                      # constant logits: step 1, q = 0


def test_bytes_per_sample_view_of_the_epic_heads():
    heads = dict(verb=97, noun=300)
    sizes = sizes_table([build_codec('fp16'), build_codec(dict(type='topk', k=10)),
                         build_codec('int8')], heads)
    # fp16: 2 · 397 = 794 (the number); top-10: 2 · (10 · 2 + 10 · 2 + 4); int8: 397 + 16
    assert sizes == dict(fp16=794, topk10=88, int8=413)
    with pytest.raises(ValueError, match='unknown teacher-cache storage'):
        build_codec('bf16')


@pytest.mark.parametrize('codec', [None, dict(type='topk', k=2), dict(type='int8')])
def test_shard_round_trip_through_the_reader(tmp_path, codec):
    rng = np.random.default_rng(0)
    logits = dict(verb=rng.normal(size=(3, 2, 5)) * 3, noun=rng.normal(size=(3, 2, 4)) * 3)
    meta = dict(teacher={}, pipeline={}, heads=dict(verb=5, noun=4), views=2, shard_size=3,
                format_version=FORMAT_VERSION)
    if codec:
        meta['codec'] = codec
    write_meta(str(tmp_path), meta)
    views = [[dict(draws=dict(flip=bool(k)), modality_present={}) for k in range(2)]
             for _ in range(3)]
    path = write_shard(str(tmp_path), 0, [0, 1, 2], views, logits, codec=codec)
    c = build_codec(codec)
    with h5py.File(path) as f:
        names = sorted(f['logits'])
    assert names == (['noun', 'verb'] if codec is None else sorted(
        f'{h}.{p}' for h in ('verb', 'noun') for p in c.encode(logits['verb'])))
    view, got = TeacherCacheReader(str(tmp_path)).get(2, 1)
    assert view['draws'] == dict(flip=True)
    for h, arr in logits.items():
        exp = c.decode({p: v[2, 1] for p, v in c.encode(arr).items()}, arr.shape[-1])
        np.testing.assert_allclose(np.asarray(got[h], np.float32), exp, atol=1e-6)
    # a resumed run keeps the intact shard (its codec's parts checked, not 'logits/<head>') ...
    meta['num_samples'] = 3
    assert verify_shard(str(tmp_path), 0, meta, 'logits') is None
    # ... and rewrites one stored another way (another k, codec or float16)
    other = {'fp16': 'int8', 'topk': dict(type='topk', k=3), 'int8': None}[c.name]
    write_shard(str(tmp_path), 0, [0, 1, 2], views, logits, codec=other)
    assert verify_shard(str(tmp_path), 0, meta, 'logits') is not None
    # a run with another storage does not resume into this cache
    with pytest.raises(StaleTeacherCacheError, match='codec'):
        write_meta(str(tmp_path), dict(meta, codec=build_codec(other).meta()
                                       if other else None))


def test_view_choice_per_epoch_shuffled_and_random():
    assert [choose_view('per_epoch', 7, e, 4) for e in range(6)] == [0, 1, 2, 3, 0, 1]
    orders = {i: [choose_view('shuffle', i, e, 5, seed=3) for e in range(5)] for i in range(6)}
    assert all(sorted(o) == list(range(5)) for o in orders.values())  # every view once
    assert len({tuple(o) for o in orders.values()}) > 1                 # orders differ
    assert orders[2] == [choose_view('shuffle', 2, e, 5, seed=3) for e in range(5)]
    np.random.seed(0)
    assert {choose_view('random', 0, None, 3) for _ in range(50)} == {0, 1, 2}
    with pytest.raises(ValueError, match='ViewEpochSampler'):
        choose_view('per_epoch', 0, None, 3)


def test_view_epoch_sampler_yields_index_and_epoch():
    sampler = DATA_SAMPLERS.build(dict(type='ViewEpochSampler', shuffle=False),
                                  default_args=dict(dataset=list(range(3))))
    sampler.set_epoch(4)
    assert list(sampler) == [(0, 4), (1, 4), (2, 4)]


@pytest.fixture(scope='module')
def toy_caches(tmp_path_factory, toy_data):
    root = tmp_path_factory.mktemp('cache_codecs')
    link_toy(root, toy_data)
    ckpt = save_teacher(root, seed=1)
    caches = {name: write_cache(root, ckpt, out=name, views=3, extra=extra) for name, extra in (
        ('fp16', ()), ('topk', ('--storage', 'topk', '--topk', '2')),
        ('int8', ('--storage', 'int8')))}
    return root, ckpt, caches


def test_tool_storage_options_store_the_same_views_and_close_logits(toy_caches):
    root, _, caches = toy_caches
    readers = {k: TeacherCacheReader(v) for k, v in caches.items()}
    assert readers['topk'].meta['codec'] == dict(type='topk', k=2)
    assert readers['int8'].meta['codec'] == dict(type='int8')
    for idx, k in ((0, 0), (5, 2)):
        ref_view, ref = readers['fp16'].get(idx, k)
        for name in ('topk', 'int8'):
            view, got = readers[name].get(idx, k)
            assert view == ref_view                  # same seed: the same views are drawn
            for h in ref:                            # toy heads: 4 classes
                exact = ref[h].astype(np.float32)[None]
                kl = mean_kl(exact, np.asarray(got[h], np.float32)[None])
                assert kl < (1e-4 if name == 'int8' else 0.1), (name, h, kl)
                top = int(np.argmax(exact))
                assert int(np.argmax(got[h])) == top


def test_cached_dataset_replays_the_epochs_view(toy_caches):
    root, ckpt, caches = toy_caches
    cfg, ds_cfg = cached_cfg(root, ckpt, caches['topk'])
    with _cwd(root):
        per_epoch = DATASETS.build(dict(ds_cfg, view_sampling='per_epoch'))
        reader = TeacherCacheReader(caches['topk'])
        for epoch in (0, 1, 4):
            sample = per_epoch[(3, epoch)]
            view, logits = reader.get(3, epoch % 3)
            assert sample['data_samples'].metainfo['view'] == view['draws']
            for h in logits:
                assert torch.allclose(sample['data_samples'].teacher_logits.get(h),
                                      torch.as_tensor(np.asarray(logits[h], np.float32)))
        with pytest.raises(ValueError, match='ViewEpochSampler'):
            per_epoch[3]
        with pytest.raises(ValueError, match='view_sampling must be one of'):
            DATASETS.build(dict(ds_cfg, view_sampling='cyclic'))
