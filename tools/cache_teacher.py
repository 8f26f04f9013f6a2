#!/usr/bin/env python
# Copyright (c) mmdistill contributors.
"""Run the frozen teacher of a distillation config over its training set, K views per sample,
and store each view's draws with the teacher's logits (offline distillation, FKD-style).

    python tools/cache_teacher.py CONFIG [--views K] [--out DIR] [--shard-size N]
        [--storage fp16|topk|int8] [--topk 10]
    torchrun --nproc_per_node=8 tools/cache_teacher.py CONFIG --launcher pytorch   # a shard a rank

Then train the student from the cache (no teacher forward, no teacher built), e.g.
``configs/karmma/student_epic_cached.py`` (``model.teacher_cache=DIR`` and the train set wrapped
in ``TeacherCacheDataset``).

The cache is stamped with the teacher (config + SHA-256 of its checkpoint files), the views'
pipeline (teacher-side transforms), the dataset (SHA-256 of the annotation files' content and of
the sample ids in order), the teacher-side code version, ``--amp`` and ``--views``. The
arguments are checked before anything is created; a run into an existing DIR must match the
stamp, checks every finished shard (digest, samples, shapes, finite values), rewrites a torn one
and skips the intact ones (resumable); outputs with NaN / inf are refused; training refuses a
stale cache naming what changed. Layout and sizes: :mod:`mmdistill_plugin.utils.teacher_cache`.
"""
import argparse
import copy
import os.path as osp
import sys
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout


def _at_least(low):
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f'{text!r} is not an integer') from None
        if value < low:
            raise argparse.ArgumentTypeError(f'must be >= {low}, got {value}')
        return value
    return parse


def parse_args(argv=None, description=__doc__, checkpoint_option=False, storage_option=None):
    """The options of the cache writers (this tool and ``tools/extract_features.py``:
    ``checkpoint_option``; ``storage_option``, default ``not checkpoint_option``: the logits
    storage codecs); invalid counts (``--views 0``, ``--topk 0``) stop here, before any
    directory is created."""
    if storage_option is None:
        storage_option = not checkpoint_option
    p = argparse.ArgumentParser(description=description.split('\n\n')[0])
    if checkpoint_option:
        p.add_argument('--checkpoint', help='load the model from this checkpoint (default: '
                       'init_weights, i.e. the configured pre-trained extractors)')
    p.add_argument('config', help='the config whose training set is cached')
    p.add_argument('--views', type=_at_least(1), default=4,
                   help='augmented views per sample (K >= 1)')
    p.add_argument('--out', help='cache directory (default work_dirs/<config>_<kind>_cache)')
    p.add_argument('--shard-size', type=_at_least(1), default=256, help='samples per HDF5 shard')
    p.add_argument('--batch-size', type=_at_least(1), default=None,
                   help='views per forward (default: the train batch size)')
    p.add_argument('--quick-resume', action='store_true',
                   help='on resume check finished shards\' structure only (not their digest '
                   'and values: faster for large token caches)')
    p.add_argument('--num-workers', type=_at_least(0), default=None,
                   help='dataloader workers (default: the train dataloader\'s)')
    p.add_argument('--seed', type=int, default=0, help='seed of the view draws')
    if storage_option:
        p.add_argument('--storage', choices=['fp16', 'topk', 'int8'], default='fp16',
                       help='how logits are stored: float16, top-k + indices (the rest '
                       'recovered as FKD), or 8-bit quantised (utils/cache_codecs.py)')
        p.add_argument('--topk', type=_at_least(1), default=10, help='k of --storage topk')
    p.add_argument('--amp', action='store_true',
                   help='forward under autocast (fp16 on CUDA, bf16 on CPU)')
    p.add_argument('--device', default=None, help='default: cuda if available, else cpu')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override config settings (key=value), as tools/train.py')
    return p.parse_args(argv)


def setup(args, kind):
    """Config, device, output dir and the teacher-side training set (views recorded)."""
    from mmengine.dist import get_dist_info, init_dist
    from mmengine.registry import init_default_scope

    import mmdistill_plugin  # noqa: F401
    from mmaction.registry import DATASETS
    from mmdistill_plugin.datasets.transforms.view import insert_view_frame_indices
    from mmdistill_plugin.utils.teacher_cache import STUDENT_ONLY_TRANSFORMS

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.launcher != 'none':
        init_dist(args.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0] +
                               f'_{kind}_cache')  # created by fill_cache, once stamped
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    if device.type == 'cuda' and get_dist_info()[1] > 1:
        device = torch.device('cuda', torch.cuda.current_device())
    dcfg = copy.deepcopy(cfg.train_dataloader.dataset)
    if dcfg.get('type') in ('TeacherCacheDataset', 'FeatureCacheDataset'):
        dcfg = dcfg['dataset']
    mix = None
    if dcfg.get('type') == 'MixedPairDataset':  # the teacher sees the student's mixed inputs
        mix = {k: v for k, v in dcfg.items() if k not in ('type', 'dataset')}
        dcfg = dcfg['dataset']
    dcfg = dict(dcfg)
    dcfg['pipeline'] = insert_view_frame_indices(
        [t for t in dcfg['pipeline'] if t.get('type') not in STUDENT_ONLY_TRANSFORMS])
    # transforms may draw at construction (MMAction2's ColorJitter fixes its order then): seed
    # it too, so --seed fixes every view draw
    np.random.seed(args.seed)
    dataset = DATASETS.build(dcfg)
    if mix is not None:
        from mmdistill_plugin.datasets.mixed_pairs import MixedPairDataset
        dataset = MixedPairDataset(dataset, **mix)
    amp = torch.autocast(device.type, dtype=torch.float16 if device.type == 'cuda'
                         else torch.bfloat16, enabled=args.amp)
    loader_args = dict(
        batch_size=args.batch_size or cfg.train_dataloader.get('batch_size', 8),
        num_workers=(cfg.train_dataloader.get('num_workers', 0) if args.num_workers is None
                     else args.num_workers))
    return cfg, out, device, dcfg, dataset, amp, loader_args


def main(argv=None):
    args = parse_args(argv)
    cfg, out, device, dcfg, dataset, amp, loader_args = setup(args, 'teacher')
    from mmengine.dataset import pseudo_collate

    from mmaction.registry import MODELS
    from mmdistill_plugin.utils import teacher_cache as tc

    if cfg.model.get('type') != 'DistillRecognizer':
        raise ValueError(f'{args.config}: model.type is {cfg.model.get("type")!r}; '
                         'cache_teacher.py needs a DistillRecognizer config (its teacher)')
    model = MODELS.build(dict(copy.deepcopy(cfg.model), teacher_cache=None)).to(device)
    model.build_teacher()
    model.eval()

    def run(batch):
        data = model.data_preprocessor(pseudo_collate(batch), False)
        with amp:
            logits = model.teacher_logits(data['inputs'], data['data_samples'])
        return ({h: v.float().cpu().numpy() for h, v in logits.items()}, data['data_samples'])

    heads = {h: int(v.shape[-1]) for h, v in run([dataset[0]])[0].items()}
    meta = dict(heads=heads, config=osp.abspath(args.config), amp=bool(args.amp),
                teacher=tc.teacher_fingerprint(cfg.model.teacher, cfg.model.get('teacher_ckpt')),
                teacher_ckpt=cfg.model.get('teacher_ckpt'),
                created=time.strftime('%Y-%m-%d %H:%M:%S'))
    if hasattr(dataset, 'mode') and hasattr(dataset, 'alpha'):  # a MixedPairDataset
        meta['mix'] = dict(mode=dataset.mode, alpha=dataset.alpha, prob=dataset.prob)
    tc.fill_cache(out, dataset, run, {h: (c, ) for h, c in heads.items()}, meta,
                  group='logits', views=args.views, shard_size=args.shard_size,
                  seed=args.seed, dataset_cfg=dcfg, amp=args.amp,
                  verify=not args.quick_resume, codec=storage_codec(args), **loader_args)


def storage_codec(args):
    """The codec of ``--storage`` (``--topk`` for top-k); None for float16."""
    if getattr(args, 'storage', 'fp16') == 'fp16':
        return None
    return dict(type='topk', k=args.topk) if args.storage == 'topk' else dict(type='int8')


if __name__ == '__main__':
    from mmdistill_plugin.utils.compat import run_main
    run_main(main)  # --launcher: ends the process group, then the rank (compat fix 6)
