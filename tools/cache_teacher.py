#!/usr/bin/env python
# Copyright (c) mmdistill contributors.
"""Run the frozen teacher of a distillation config over its training set, K views per sample,
and store each view's draws with the teacher's logits (offline distillation, FKD-style).

    python tools/cache_teacher.py CONFIG [--views K] [--out DIR] [--shard-size N]
    torchrun --nproc_per_node=8 tools/cache_teacher.py CONFIG --launcher pytorch   # a shard a rank

Then train the student from the cache (no teacher forward, no teacher built)::

    python tools/train.py CONFIG --cfg-options model.teacher_cache=DIR \\
        train_dataloader.dataset.type=TeacherCacheDataset ...      # or a *_cached config

The cache is stamped with the teacher (config + SHA-256 of its checkpoint files) and the views'
pipeline (annotation file, dataset size, teacher-side transforms); a run into an existing DIR
must match the stamp, skips the shards already written (resumable), and training refuses a
stale cache. Layout and sizes: :mod:`mmdistill_plugin.utils.teacher_cache`.
"""
import argparse
import copy
import math
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', help='a distillation config (model.type=DistillRecognizer)')
    p.add_argument('--views', type=int, default=4, help='augmented views per sample (K)')
    p.add_argument('--out', help='cache directory (default work_dirs/<config>_teacher_cache)')
    p.add_argument('--shard-size', type=int, default=256, help='samples per HDF5 shard')
    p.add_argument('--batch-size', type=int, default=None,
                   help='views per teacher forward (default: the train batch size)')
    p.add_argument('--num-workers', type=int, default=None,
                   help='dataloader workers (default: the train dataloader\'s)')
    p.add_argument('--seed', type=int, default=0, help='seed of the view draws')
    p.add_argument('--amp', action='store_true',
                   help='teacher under autocast (fp16 on CUDA, bf16 on CPU)')
    p.add_argument('--device', default=None, help='default: cuda if available, else cpu')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override config settings (key=value), as tools/train.py')
    return p.parse_args(argv)


class _Views(torch.utils.data.Dataset):
    """``(sample, view)`` pairs of one shard through the teacher-side pipeline."""

    def __init__(self, dataset, items):
        self.dataset, self.items = dataset, items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        idx, _ = self.items[i]
        return self.dataset.pipeline(self.dataset.get_data_info(idx))


def _seed_worker(worker_id):
    np.random.seed(torch.initial_seed() % 2**32)


def teacher_dataset_cfg(cfg):
    """The training set's config with the view recorder and without student-only transforms."""
    from mmdistill_plugin.datasets.transforms.view import insert_view_frame_indices
    from mmdistill_plugin.utils.teacher_cache import STUDENT_ONLY_TRANSFORMS
    d = copy.deepcopy(cfg.train_dataloader.dataset)
    if d.get('type') == 'TeacherCacheDataset':
        d = d['dataset']
    d = dict(d)
    d['pipeline'] = insert_view_frame_indices(
        [t for t in d['pipeline'] if t.get('type') not in STUDENT_ONLY_TRANSFORMS])
    return d


def main(argv=None):
    args = parse_args(argv)
    import mmdistill_plugin  # noqa: F401
    from mmengine.dataset import pseudo_collate
    from mmengine.dist import barrier, get_dist_info, init_dist
    from mmengine.registry import init_default_scope
    from mmengine.utils import ProgressBar, mkdir_or_exist

    from mmaction.registry import DATASETS, MODELS
    from mmdistill_plugin.utils import teacher_cache as tc

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.launcher != 'none':
        init_dist(args.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
    rank, world = get_dist_info()
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if cfg.model.get('type') != 'DistillRecognizer':
        raise ValueError(f'{args.config}: model.type is {cfg.model.get("type")!r}; '
                         'cache_teacher.py needs a DistillRecognizer config (its teacher)')
    out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0] +
                               '_teacher_cache')
    mkdir_or_exist(out)

    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and world > 1:
        device = torch.device('cuda', torch.cuda.current_device())
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg['teacher_cache'] = None
    model = MODELS.build(model_cfg).to(device)
    model.build_teacher()
    model.eval()

    dcfg = teacher_dataset_cfg(cfg)
    dataset = DATASETS.build(dcfg)
    n = len(dataset)
    shard_size, K = args.shard_size, args.views
    num_shards = math.ceil(n / shard_size)
    amp = torch.autocast(device.type, dtype=torch.float16 if device.type == 'cuda'
                         else torch.bfloat16, enabled=args.amp)

    def run(batch):
        data = model.data_preprocessor(pseudo_collate(batch), False)
        with amp:
            logits = model.teacher_logits(data['inputs'], data['data_samples'])
        return ({h: v.float().cpu().numpy() for h, v in logits.items()}, data['data_samples'])

    # The stamp: every rank computes it, rank 0 writes it (or checks an existing one).
    heads = {h: int(v.shape[-1]) for h, v in run([dataset[0]])[0].items()}
    meta = dict(format_version=tc.FORMAT_VERSION, views=K, shard_size=shard_size,
                heads=heads, num_samples=n, config=osp.abspath(args.config),
                teacher=tc.teacher_fingerprint(cfg.model.teacher, cfg.model.get('teacher_ckpt')),
                teacher_ckpt=cfg.model.get('teacher_ckpt'),
                pipeline=tc.pipeline_fingerprint(dcfg, n), amp=bool(args.amp),
                created=time.strftime('%Y-%m-%d %H:%M:%S'))
    if rank == 0:
        tc.write_meta(out, meta)
    barrier()
    if rank != 0:
        for what in ('teacher', 'pipeline'):
            tc.check_stamp(out, what, meta[what])

    done = set(tc.finished_shards(out))
    mine = [s for s in range(num_shards) if s % world == rank and s not in done]
    if rank == 0:
        print(f'teacher cache {out}: {n} samples x {K} views, {num_shards} shards '
              f'({len(done)} already written), heads {heads}', flush=True)
    workers = cfg.train_dataloader.get('num_workers', 0) if args.num_workers is None \
        else args.num_workers
    bs = args.batch_size or cfg.train_dataloader.get('batch_size', 8)
    progress = ProgressBar(sum(min(shard_size, n - s * shard_size) for s in mine) * K) \
        if rank == 0 and mine else None
    for shard in mine:
        idxs = list(range(shard * shard_size, min(n, (shard + 1) * shard_size)))
        items = [(i, k) for i in idxs for k in range(K)]
        np.random.seed(args.seed + shard)
        torch.manual_seed(args.seed + shard)
        loader = torch.utils.data.DataLoader(
            _Views(dataset, items), batch_size=bs, num_workers=workers,
            collate_fn=lambda b: b, worker_init_fn=_seed_worker,
            generator=torch.Generator().manual_seed(args.seed + shard))
        logits = {h: np.zeros((len(idxs), K, c), np.float32) for h, c in heads.items()}
        views = [[None] * K for _ in idxs]
        pos = 0
        for batch in loader:
            out_logits, samples = run(batch)
            for j, ds in enumerate(samples):
                i, k = items[pos + j]
                row = i - idxs[0]
                views[row][k] = dict(draws=ds.metainfo.get('view', {}),
                                     modality_present=ds.metainfo.get('modality_present', {}))
                for h in heads:
                    logits[h][row, k] = out_logits[h][j]
            pos += len(batch)
            if progress is not None:
                for _ in batch:
                    progress.update()
        tc.write_shard(out, shard, idxs, views, logits)
    barrier()
    if rank == 0:
        print(f'\nteacher cache complete: {out}', flush=True)


if __name__ == '__main__':
    main()
