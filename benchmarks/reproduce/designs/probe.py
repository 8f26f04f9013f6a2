"""Fast in-process probe of a benchmark design: the toy networks on cached clips.

Design tuning only (the suites' numbers always come from ``tools/train.py`` runs): loads every
video of a generated ``sthv2/`` folder into memory once (RGB frames, x/y flow, depth), then
trains the slim ResNet3d members of configs/_base_/datasets/toy_sthv2_dmcl.py with a strategy
of the registry (``IndependentMCLLoss``, ``DMCLLoss``, ...) in one process, without the
dataloader workers and the per-run start-up of a ``tools/train.py`` run. Sampling and
augmentation follow the toy pipeline (8 uniformly sampled frames, random-resized crop of area
0.6–1 resized to 32², per-modality mean/std; no colour jitter), the optimiser the toy schedule
(AdamW, weight decay 1e-3, grad-norm clip 5, linear warm-up over 10 % then linear decay to 0).

Prints per evaluated epoch each network's validation top-1, Σ and Φ, and per epoch each
network's mean training CE and winner rate. Example::

    python benchmarks/reproduce/designs/probe.py work_dirs/mut2 --members rgb depth flow \\
        --strategy IndependentMCLLoss --epochs 20 --seeds 0 1 2 --eval-every 2
"""
import argparse
import importlib
import json
import math
import os.path as osp
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[3]


def load_split(root, split, classes):
    """``[(rgb uint8 [T,H,W,3] BGR, flow uint8 [T-1,H,W,2], depth uint8 [T,H,W], label)]``."""
    ann = json.loads((Path(root) / 'annotations' / f'{split}.json').read_text())
    label_of = {k: int(v) for k, v in json.loads(
        (Path(root) / 'annotations' / 'labels.json').read_text()).items()}
    out = []
    for e in ann:
        vid = e['id']
        fr = sorted((Path(root) / 'frames' / vid).glob('*.jpg'))
        rgb = np.stack([cv2.imread(str(p)) for p in fr])
        n = len(fr) - 1
        flow = np.stack([np.stack([cv2.imread(str(Path(root) / 'flow' / vid / f'{a}_{i:05d}.jpg'),
                                              0) for a in 'xy'], -1) for i in range(1, n + 1)])
        depth = np.stack([cv2.imread(str(Path(root) / 'depth' / vid / f'{i:05d}.png'), 0)
                          for i in range(1, len(fr) + 1)])
        key = e['template'].replace('[', '').replace(']', '')
        out.append((rgb, flow, depth, label_of[key]))
    return out


NORM = dict(rgb=([123.675, 116.28, 103.53], [58.395, 57.12, 57.375]),
            depth=([127.5], [127.5]), flow=([127.5, 127.5], [10.0, 10.0]))


def clip(video, rng, train, clip_len=8, size=32, area=(0.6, 1.0)):
    """One sample: ``dict(modality -> float [C, T, size, size])`` normalised like the toy."""
    rgb, flow, depth, _ = video
    T = rgb.shape[0]
    seg = T / clip_len
    if train:
        inds = np.floor(np.arange(clip_len) * seg + rng.random(clip_len) * seg).astype(int)
    else:
        inds = np.floor(np.arange(clip_len) * seg + seg / 2).astype(int)
    inds = np.clip(inds, 0, T - 1)
    h, w = rgb.shape[1:3]
    if train:
        a = rng.uniform(*area) * h * w
        ch = cw = int(round(math.sqrt(a)))
        y0, x0 = rng.integers(0, h - ch + 1), rng.integers(0, w - cw + 1)
    else:
        y0, x0, ch, cw = 0, 0, h, w
    arrs = dict(rgb=rgb[inds][..., ::-1], flow=flow[np.clip(inds, 0, flow.shape[0] - 1)],
                depth=depth[inds][..., None])
    out = {}
    for m, x in arrs.items():
        x = torch.from_numpy(np.ascontiguousarray(x[:, y0:y0 + ch, x0:x0 + cw])).float()
        x = x.permute(0, 3, 1, 2)                                  # T, C, h, w
        x = F.interpolate(x, size=(size, size), mode='bilinear', align_corners=False)
        mean, std = (torch.tensor(v).view(1, -1, 1, 1) for v in NORM[m])
        out[m] = ((x - mean) / std).permute(1, 0, 2, 3)            # C, T, H, W
    return out


def build_members(members, num_classes, seed, channels=None):
    from mmengine.config import Config

    from mmaction.registry import MODELS
    cfg = Config.fromfile(str(REPO / 'configs/_base_/datasets/toy_sthv2_dmcl.py'))
    torch.manual_seed(seed)
    nets = {}
    for m in members:
        c = Config(dict(x=cfg[f'toy_{m}_member'])).x
        c.cls_head.num_classes = num_classes
        if channels:
            c.backbone.base_channels = channels
            c.cls_head.in_channels = channels * 4
        nets[m] = MODELS.build(c)
        nets[m].init_weights()
    return torch.nn.ModuleDict(nets)


def logits_of(net, x):
    feats = net.backbone(x)
    return net.cls_head(feats)


def run(train, val, members, strategy, epochs, seed, lr=1e-3, batch=8, eval_every=2,
        num_classes=8, channels=None, log=print):
    from mmaction.registry import MODELS
    nets = build_members(members, num_classes, seed, channels)
    loss_fn = MODELS.build(strategy)
    params = [p for n in nets.values() for p in n.parameters()]
    opt = torch.optim.AdamW(params, lr=lr, weight_decay=1e-3)
    rng = np.random.default_rng(seed)
    iters = len(train) // batch
    total, warm = epochs * iters, max(1, round(epochs * 0.1)) * iters
    step, history = 0, []
    for ep in range(1, epochs + 1):
        nets.train()
        order = rng.permutation(len(train))
        ce_sum = {m: 0.0 for m in members}
        wins = np.zeros(len(members))
        for it in range(iters):
            idx = order[it * batch:(it + 1) * batch]
            samples = [clip(train[i], rng, True) for i in idx]
            y = torch.tensor([train[i][3] for i in idx])
            z = torch.stack([logits_of(nets[m], torch.stack([s[m] for s in samples]))
                             for m in members])
            out = loss_fn(z, y)
            loss = (out['loss_cls'] + out['loss_kd']).sum()
            f = step / warm if step < warm else max(0.0, (total - step) / (total - warm))
            for g in opt.param_groups:
                g['lr'] = lr * max(f, 1e-3 if step < warm else 0.0)
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 5.0)
            opt.step()
            step += 1
            with torch.no_grad():
                ce = F.cross_entropy(z.reshape(-1, z.shape[-1]), y.repeat(len(members)),
                                     reduction='none').view(len(members), -1).mean(1)
            for i, m in enumerate(members):
                ce_sum[m] += float(ce[i]) / iters
            if out.get('winner') is not None:
                wins += np.bincount(out['winner'].numpy(), minlength=len(members)) / (
                    iters * len(idx))
        row = dict(epoch=ep, **{f'ce.{m}': ce_sum[m] for m in members},
                   **{f'win.{m}': float(wins[i]) for i, m in enumerate(members)})
        if ep % eval_every == 0 or ep == epochs:
            row.update(evaluate(nets, val, members))
        history.append(row)
        log(' '.join(f'{k}={v:.3f}' if isinstance(v, float) else f'{k}={v}'
                     for k, v in row.items()))
    return history


@torch.no_grad()
def evaluate(nets, val, members, batch=50):
    nets.eval()
    rng = np.random.default_rng(0)
    zs = {m: [] for m in members}
    for i in range(0, len(val), batch):
        samples = [clip(v, rng, False) for v in val[i:i + batch]]
        for m in members:
            zs[m].append(logits_of(nets[m], torch.stack([s[m] for s in samples])))
    y = torch.tensor([v[3] for v in val])
    z = {m: torch.cat(v) for m, v in zs.items()}
    out = {f'val.{m}': float((z[m].argmax(1) == y).float().mean()) for m in members}
    fused = sum(z.values())
    out['val.fused'] = float((fused.argmax(1) == y).float().mean())
    out['val.oracle'] = float(torch.stack([z[m].argmax(1) == y for m in members]).any(0)
                              .float().mean())
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('data', help='parent of sthv2/')
    p.add_argument('--members', nargs='+', default=['rgb', 'depth', 'flow'])
    p.add_argument('--strategy', default='IndependentMCLLoss')
    p.add_argument('--strategy-args', default='{}', help='json')
    p.add_argument('--epochs', type=int, default=20)
    p.add_argument('--lr', type=float, default=1e-3)
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--eval-every', type=int, default=2)
    p.add_argument('--channels', type=int, help='base channels (default: the toy config)')
    p.add_argument('--json', help='write the histories here')
    a = p.parse_args(argv)
    torch.set_num_threads(1)
    import logging

    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)   # no init_weights tables
    from mmaction.utils import register_all_modules
    register_all_modules()
    importlib.import_module('mmdistill_plugin')   # registers the plugin's modules
    root = osp.join(a.data, 'sthv2')
    labels = json.loads((Path(root) / 'annotations' / 'labels.json').read_text())
    t0 = time.time()
    train, val = load_split(root, 'train', labels), load_split(root, 'validation', labels)
    print(f'loaded {len(train)} + {len(val)} videos in {time.time() - t0:.0f} s', flush=True)
    res = {}
    for s in a.seeds:
        t0 = time.time()
        res[s] = run(train, val, a.members, dict(type=a.strategy, **json.loads(
            a.strategy_args)), a.epochs, s, a.lr, eval_every=a.eval_every,
            num_classes=len(labels), channels=a.channels,
            log=lambda x: print(f'[seed {s}] {x}', flush=True))
        print(f'[seed {s}] {time.time() - t0:.0f} s', flush=True)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=1))


if __name__ == '__main__':
    sys.exit(main())
