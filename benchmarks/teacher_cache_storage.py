#!/usr/bin/env python
"""Teacher cache beyond FKD, in one run: bytes per sample-view of each storage option, the KL
between stored and exact teacher distributions, and the toy student distilled from caches vs
online (same seeds).

    python benchmarks/teacher_cache_storage.py [--seeds 3] [--out work_dirs/bench_teacher_cache]
        [--topk 2] [--smoke]

1. Bytes: shards of synthetic logits written with every codec (``fp16``, ``topk`` with k = 10,
   ``int8``) for the EPIC-100 heads (97 verbs + 300 nouns) and SSv2 (174 classes), N = 512
   samples × K = 4 views each: the file size per sample-view (views' JSON and HDF5 overhead
   included) next to the logits' own bytes (codec formula).
2. KL: ``KL(softmax(z/τ) ‖ softmax(ẑ/τ))`` of the decoded ``ẑ`` against the exact logits ``z``
   at τ = 1 and at the toy student's KD temperature τ = 10, (a) on the toy teacher's real logits
   (6 classes, every stored view of the float16 cache, encoded as each codec stores them), (b) on
   synthetic logits of 174 / 397 classes (``z = 3·N(0, 1)`` plus 6 on one class: a confident,
   long-tailed teacher; float32 reference).
3. Accuracy: the toy RGB student of ``configs/mm2rgb/toy/student_rgb_flow_sthv2.py`` (teacher =
   logit mean of the toy RGB and flow baselines, trained once with seed 0) trained online and
   from caches of the same teacher, each over the seeds (``randomness.seed``, deterministic, one
   validation after the last epoch, as ``benchmarks/reproduce``): ``online``; ``fp16 K=4
   random`` (the cache as it was: 4 fixed views, one drawn per epoch); ``fp16 K=30 per_epoch``
   (a fresh stored view every epoch, FKD); with ``--storage-rows`` also ``topk`` and ``int8``
   caches, K=30 per_epoch. Each cached row prints its paired difference to ``online`` (95 % t
   interval over seeds).

Wall time on 2 shared CPU cores: about an hour for 3 seeds (data, two baselines, two caches,
9 student runs of ~5 min; ``--storage-rows``: two more caches and 6 more runs). Runs and caches
are reused when present (resume).
"""
import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / 'benchmarks'))

from reproduce.common import Suite, fmt_pm, paired_difference  # noqa: E402

STUDENT = 'configs/mm2rgb/toy/student_rgb_flow_sthv2.py'
CACHED = 'configs/mm2rgb/toy/student_rgb_flow_sthv2_cached.py'
TAUS = (1.0, 10.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--seeds', type=int, default=3)
    p.add_argument('--seed-list', type=int, nargs='+', help='explicit seeds (overrides --seeds)')
    p.add_argument('--out', default='work_dirs/bench_teacher_cache')
    p.add_argument('--topk', type=int, default=2, help='k of the toy top-k cache (6 classes)')
    p.add_argument('--smoke', action='store_true', help='tiny data, 2 epochs, 1 seed')
    p.add_argument('--storage-rows', action='store_true',
                   help='also train students from top-k and int8 caches (6 more runs a seed)')
    args = p.parse_args(argv)
    args.epochs = 2 if args.smoke else None
    if args.smoke:
        args.seeds = 1
    return args


# ---------------------------------------------------------------- 1. bytes per sample-view
def measured_bytes(codecs, heads, n=512, views=4):
    """``name -> (file bytes, logits bytes)`` per sample-view of shards written with each codec."""
    from mmdistill_plugin.utils.teacher_cache import write_shard
    rng = np.random.default_rng(0)
    logits = {h: (3 * rng.standard_normal((n, views, c))).astype(np.float32)
              for h, c in heads.items()}
    draws = [[dict(draws=dict(frame_inds=list(range(3 * k, 3 * k + 8)),
                              crop_bbox=[12, 8, 200 + k, 180], flip=bool(k % 2)),
                   modality_present=dict(rgb=True, flow=True)) for k in range(views)]
             for _ in range(n)]
    out = {}
    for name, codec in codecs.items():
        with tempfile.TemporaryDirectory() as d:
            path = write_shard(d, 0, list(range(n)), draws, logits, codec=codec)
            size = os.path.getsize(path)
        from mmdistill_plugin.utils.cache_codecs import build_codec
        c = build_codec(codec)
        out[name] = (size / (n * views), sum(c.bytes_per_view(v) for v in heads.values()))
    return out


# ---------------------------------------------------------------- 2. KL of stored vs exact
def synthetic_kl(codecs, num_classes, n=2000):
    from mmdistill_plugin.utils.cache_codecs import build_codec, mean_kl
    rng = np.random.default_rng(1)
    z = 3 * rng.standard_normal((n, num_classes))
    z[np.arange(n), rng.integers(0, num_classes, n)] += 6.0
    out = {}
    for name, codec in codecs.items():
        c = build_codec(codec)
        zhat = c.decode(c.encode(z), num_classes)
        out[name] = [mean_kl(z, zhat, tau) for tau in TAUS]
    return out


def toy_kl(fp16_cache, codecs):
    """KL of the other codecs against the float16 toy cache: its logits (every view of every
    sample) encoded and decoded as a cache of that codec stores them (``write_shard`` /
    ``TeacherCacheReader`` apply the same ``encode`` / ``decode``, tests/test_cache_codecs.py)."""
    from mmdistill_plugin.utils.cache_codecs import build_codec, mean_kl
    from mmdistill_plugin.utils.teacher_cache import TeacherCacheReader
    ref = TeacherCacheReader(fp16_cache)
    exact = np.stack([np.asarray(ref.get(i, v)[1]['item'], np.float32)
                      for i in range(ref.meta['num_samples']) for v in range(ref.views)])
    out = {}
    for name, codec in codecs.items():
        c = build_codec(codec)
        stored = c.decode(c.encode(exact), exact.shape[-1])
        out[name] = [mean_kl(exact, stored, tau) for tau in TAUS]
    return out


# ---------------------------------------------------------------- 3. cached vs online
def write_cache(suite, name, views, storage=(), seed0=0):
    """``tools/cache_teacher.py`` on the student config of seed 0 (its teacher), once (again
    when the cache there has another format version)."""
    from mmdistill_plugin.utils.teacher_cache import FORMAT_VERSION, read_meta
    out = suite.out / 'caches' / name
    if (out / 'done').exists():
        if read_meta(str(out)).get('format_version') == FORMAT_VERSION:
            return str(out)
        shutil.rmtree(out)  # written by an older plugin: readers refuse it, write it again
    cfg = suite.config(STUDENT, 'cache_writer', seed0)
    suite.run_cmd([sys.executable, 'tools/cache_teacher.py', str(cfg), '--views', str(views),
                   '--out', str(out), '--num-workers', '2', '--seed', '0', *storage],
                  suite.out / 'caches' / f'{name}.log')
    (out / 'done').write_text('ok')
    return str(out)


def main(argv=None):
    args = parse_args(argv)
    t0 = time.time()
    from mmdistill_plugin.utils.cache_codecs import mean_kl  # noqa: F401 (plugin import check)
    codecs = dict(fp16=None, topk10=dict(type='topk', k=10), int8=dict(type='int8'))
    print('== 1. bytes per sample-view (file: shard size / (N·K), views JSON included; '
          'logits: the codec\'s own bytes)')
    for label, heads in (('EPIC-100 verb 97 + noun 300', dict(verb=97, noun=300)),
                         ('SSv2 174', dict(item=174))):
        sizes = measured_bytes(codecs, heads)
        parts = [f'{k} {f:.0f} B file / {b} B logits' for k, (f, b) in sizes.items()]
        print(f'{label}: ' + '; '.join(parts)
              + f'; ratio fp16/topk10 {sizes["fp16"][0] / sizes["topk10"][0]:.1f}×, '
              f'fp16/int8 {sizes["fp16"][0] / sizes["int8"][0]:.1f}× (file)')
    print('\n== 2a. KL(exact ‖ stored), synthetic logits (float32 reference), tau = '
          + ', '.join(map(str, TAUS)))
    for c in (174, 397):
        kl = synthetic_kl(codecs, c)
        print(f'C={c}: ' + '; '.join(f'{k} ' + ' / '.join(f'{v:.2e}' for v in vals)
                                     for k, vals in kl.items()))

    suite = Suite('teacher_cache', argparse.Namespace(
        out=args.out, seed_list=args.seed_list, seeds=args.seeds, smoke=args.smoke,
        epochs=args.epochs))
    suite.generate_data(('sthv2', ))
    for m in ('rgb', 'flow'):  # the teacher's members, once (seed 0)
        suite.train(f'configs/mm2rgb/toy/baseline_{m}_sthv2.py', f'toy_baseline_{m}_sthv2', 0,
                    ['top1'], row=f'teacher member {m}')
    members = {m: str(suite.work_dir(f'toy_baseline_{m}_sthv2', 0)) for m in ('rgb', 'flow')}
    teacher = {f'model.teacher.members.{m}.checkpoint': p for m, p in members.items()}
    epochs = args.epochs or 30
    caches = dict(fp16_k4=write_cache(suite, 'fp16_k4', 4),
                  fp16=write_cache(suite, 'fp16_k30', epochs))
    if args.storage_rows:
        caches.update(topk=write_cache(suite, f'topk{args.topk}_k30', epochs,
                                       ('--storage', 'topk', '--topk', str(args.topk))),
                      int8=write_cache(suite, 'int8_k30', epochs, ('--storage', 'int8')))
    n = json.loads((Path(caches['fp16']) / 'meta.json').read_text())['num_samples']
    print(f'\n== 2b. KL(exact ‖ stored) on the toy teacher\'s logits (6 classes, {epochs} views'
          f' × {n} samples, the float16 cache as reference), tau = ' + ', '.join(map(str, TAUS)))
    toy_codecs = {f'top{k}': dict(type='topk', k=k) for k in (1, args.topk)}
    toy_codecs['int8'] = dict(type='int8')
    for name, vals in toy_kl(caches['fp16'], toy_codecs).items():
        print(f'{name}: ' + ' / '.join(f'{v:.2e}' for v in vals))

    rows = [('online', STUDENT, {}),
            ('fp16 K=4 random', CACHED, dict(view_sampling='random', cache=caches['fp16_k4'])),
            (f'fp16 K={epochs} per_epoch', CACHED, dict(cache=caches['fp16']))]
    if args.storage_rows:
        rows += [(f'top{args.topk} K={epochs} per_epoch', CACHED, dict(cache=caches['topk'])),
                 (f'int8 K={epochs} per_epoch', CACHED, dict(cache=caches['int8']))]
    for seed in suite.seeds:
        for row, cfg_file, ds in rows:
            opts = dict(teacher)
            if ds:
                opts['model.teacher_cache'] = ds['cache']
                opts.update({f'train_dataloader.dataset.{k}': v for k, v in ds.items()})
                if ds.get('view_sampling') == 'random':
                    opts['train_dataloader.sampler'] = dict(type='DefaultSampler', shuffle=True,
                                                            _delete_=True)
            run = 'student_' + row.replace(' ', '_').replace('=', '')
            suite.train(cfg_file, run, seed, ['top1'], options=opts, row=row)
    print(f'\n== 3. toy RGB student top-1 (%), seeds {suite.seeds}: mean ± std, paired '
          'difference to online with its 95 % t interval')
    online = [100 * v for v in suite.values('online', 'top1')]
    for row, _, _ in rows:
        vals = [100 * v for v in suite.values(row, 'top1')]
        line = f'{row:>22}: {fmt_pm(vals, scale=1.0)}'
        if row != 'online':
            d = paired_difference(vals, online)
            lo, hi = d['ci']
            line += f'   Δ vs online {d["mean"]:+.1f} [{lo:+.1f}, {hi:+.1f}]'
        print(line)
    print(f'\nwall time {time.time() - t0:.0f} s; runs in {suite.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
