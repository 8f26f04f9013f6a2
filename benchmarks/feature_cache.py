#!/usr/bin/env python
"""KARMMA teacher training step: end to end (three frozen Swin-B) vs from cached tokens.

Both measured in this run on the paper's teacher (``configs/karmma/teacher_epic.py``: Swin-B
V/F/A extractors, 32×224² clips, 1024×128 log-mel, Θ = 300, fusion D = 768, l = 2) with random
weights and synthetic inputs of the paper's shapes, on a reduced number of clips. The cached
step reads each sample's stored tokens from an HDF5 shard (as ``FeatureCacheDataset`` does)
and runs fusion + head forward/backward + the optimizer; the end-to-end step also runs the
three frozen extractors (no data loading or augmentation counted: that favours end to end).
The ratio is the speed-up of a teacher epoch from cached tokens (target ≥ 10×).

    python benchmarks/feature_cache.py [--batch-size 1] [--iters 2]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import LabelData

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config', default=os.path.join(REPO, 'configs/karmma/teacher_epic.py'))
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--iters', type=int, default=2, help='timed steps (after one warm-up)')
    return p.parse_args()


def sample(i, shapes, modalities):
    from mmaction.structures import ActionDataSample
    g = torch.Generator().manual_seed(i)
    ds = ActionDataSample()
    ds.gt_labels = LabelData(verb=torch.tensor([i % 97]), noun=torch.tensor([i % 300]))
    present = {m: True for m in modalities}
    ds.set_metainfo(dict(modality_present=present, modality_mask=dict(present)))
    inputs = {m: torch.rand(shapes[m], generator=g) * 255 for m in modalities}
    return dict(inputs=inputs, data_samples=ds)


def timed(step, n):
    step(0)  # warm-up
    times = []
    for i in range(1, n + 1):
        t0 = time.perf_counter()
        step(i)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    args = parse_args()
    import mmdistill_plugin  # noqa: F401
    from mmaction.registry import DATASETS, MODELS  # noqa: F401
    from mmdistill_plugin.datasets.feature_cache_dataset import FeatureCacheDataset
    from mmdistill_plugin.utils import teacher_cache as tc
    init_default_scope('mmaction')
    cfg = Config.fromfile(args.config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model).train()
    mods = model.modalities
    clip_len = cfg.clip_len
    shapes = dict(rgb=(1, 3, clip_len, 224, 224), flow=(1, 2, clip_len, 224, 224),
                  audio=(1, 1, cfg.audio_frames, 128))
    bs = args.batch_size
    wrapper = OptimWrapper(torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad], lr=1e-5))

    def end_to_end(i):
        batch = pseudo_collate([sample(i * bs + j, shapes, mods) for j in range(bs)])
        model.train_step(batch, wrapper)

    t_e2e = timed(end_to_end, args.iters)

    # Tokens of the same model, stored as tools/extract_features.py stores them.
    with torch.no_grad():
        data = model.data_preprocessor(pseudo_collate([sample(0, shapes, mods)]), False)
        tokens = {m: v[0].numpy() for m, v in model.extract_tokens(data['inputs']).items()}
    n = bs * (args.iters + 1)
    with tempfile.TemporaryDirectory() as cache:
        tc.write_meta(cache, dict(format_version=tc.FORMAT_VERSION, views=1, shard_size=n,
                                  heads={}, tokens={m: list(t.shape) for m, t in tokens.items()},
                                  pipeline={}, extractors={}))
        tc.write_shard(cache, 0, list(range(n)),
                       [[dict(draws={}, modality_present={m: True for m in mods})]] * n,
                       {m: np.repeat(t[None, None], n, 0) for m, t in tokens.items()},
                       group='tokens')
        reader = tc.TeacherCacheReader(cache, group='tokens')
        model.feature_cache = cache
        model._cache_checked = True
        ref = sample(0, shapes, mods)['data_samples']

        def from_tokens(i):
            items = []
            for j in range(bs):
                _, tok = reader.get(i * bs + j, 0)
                items.append(dict(inputs={m: torch.from_numpy(np.asarray(t, np.float32))[None]
                                          for m, t in tok.items()}, data_samples=ref))
            model.train_step(pseudo_collate(items), wrapper)

        t_cached = timed(from_tokens, args.iters)
    assert FeatureCacheDataset  # the dataset wrapper serving these tokens in training
    bytes_per_view = sum(t.size for t in tokens.values()) * 2
    print(f'KARMMA teacher ({os.path.relpath(args.config, REPO)}), batch {bs}, '
          f'{torch.get_num_threads()} threads, tokens per view: '
          + ', '.join(f'{m} {tuple(t.shape)}' for m, t in tokens.items())
          + f' = {bytes_per_view / 2**20:.2f} MiB fp16')
    print(f'end-to-end step {t_e2e:8.2f} s   (frozen Swin-B x3 + fusion + head, f+b+opt)')
    print(f'cached step     {t_cached:8.2f} s   (read tokens + fusion + head, f+b+opt)')
    print(f'speed-up end-to-end / cached = {t_e2e / t_cached:.1f}x')


if __name__ == '__main__':
    main()
