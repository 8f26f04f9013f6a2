#!/usr/bin/env python
# Copyright (c) mmdistill contributors.
"""Store the frozen feature extractors' Θ-Averaged tokens of a KARMMA teacher for K views of
every training sample, so the teacher's fusion block and head train without the backbones.

    python tools/extract_features.py configs/karmma/teacher_epic.py --views 4 \\
        --out work_dirs/teacher_epic_features [--checkpoint FILE]
    python tools/train.py configs/karmma/teacher_epic_features.py     # trains from the tokens

The model is initialised as training would (``init_weights``: the published pre-trained
extractors) or from ``--checkpoint``. The cache is stamped with the SHA-256 of the extractors'
weights and with the pipeline; ``MultimodalRecognizer(feature_cache=...)`` and
``FeatureCacheDataset`` refuse a cache of other extractors, another pipeline, annotation
content, sample order or teacher-side code. Tokens are
fp16 ``[Θ, C]`` per modality and view (KARMMA teacher on EPIC: (300 + 300 + 128) × 1024 × 2
bytes = 1.42 MiB per sample-view). Same options as ``tools/cache_teacher.py`` (resumable shards:
a rerun into the same ``--out`` checks the finished shards, rewrites torn ones and writes the
rest; ``--launcher pytorch``, ``--amp``, ``--quick-resume``).
"""
import copy
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout

from cache_teacher import parse_args, setup  # noqa: E402


def main(argv=None):
    args = parse_args(argv, description=__doc__, checkpoint_option=True)
    cfg, out, device, dcfg, dataset, amp, loader_args = setup(args, 'features')
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import load_checkpoint

    from mmaction.registry import MODELS
    from mmdistill_plugin.utils import teacher_cache as tc

    model_cfg = dict(copy.deepcopy(cfg.model), feature_cache=None)
    if model_cfg.get('type') != 'MultimodalRecognizer' or not model_cfg.get('frozen_backbones'):
        raise ValueError(f'{args.config}: extract_features.py needs a MultimodalRecognizer with '
                         'frozen_backbones=True (a KARMMA teacher config)')
    model = MODELS.build(model_cfg)
    if args.checkpoint:
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    else:
        model.init_weights()
    model = model.to(device).eval()
    parts = [model.backbones] + ([model.neck] if model.neck is not None else [])

    def run(batch):
        data = model.data_preprocessor(pseudo_collate(batch), False)
        with amp:
            tokens = model.extract_tokens(data['inputs'])
        return ({m: v.float().cpu().numpy() for m, v in tokens.items()}, data['data_samples'])

    shapes = {m: tuple(v.shape[1:]) for m, v in run([dataset[0]])[0].items()}
    meta = dict(tokens={m: list(s) for m, s in shapes.items()}, heads={},
                config=osp.abspath(args.config), amp=bool(args.amp),
                extractors=dict(weights_sha256=tc.state_sha256(parts)),
                created=time.strftime('%Y-%m-%d %H:%M:%S'))
    tc.fill_cache(out, dataset, run, shapes, meta, group='tokens', views=args.views,
                  shard_size=args.shard_size, seed=args.seed, dataset_cfg=dcfg, amp=args.amp,
                  verify=not args.quick_resume, **loader_args)


if __name__ == '__main__':
    from mmdistill_plugin.utils.compat import run_main
    run_main(main)  # --launcher: ends the process group, then the rank (compat fix 6)
