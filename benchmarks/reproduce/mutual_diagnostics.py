"""Diagnostics of a DMCL / MML toy run: learning curves, winner rates, loss-term magnitudes.

Trains one toy config (``tools/train.py``, the user's command) with a validation every
``--val-interval`` epochs and the logger every 10 iterations, then prints per epoch:

* each network's validation top-1, Σ and Φ (``MultiModalityMetric``);
* the fraction of training samples each network won (``winner_rate.<name>``, the MCL
  strategies only; DMCL Fig. 3);
* each network's ``loss_cls`` and ``loss_kd`` (batch means, as summed into the loss).

Used for the anomaly analysis in docs/benchmarks.md (``## DMCL``, ``## Mutual (Modality)
Learning``). Example::

    python benchmarks/reproduce/mutual_diagnostics.py configs/dmcl/toy/dmcl_sthv2.py \\
        --data work_dirs/diag/oldtoy --out work_dirs/diag/dmcl_s0 --seed 0
    python benchmarks/reproduce/mutual_diagnostics.py --summary work_dirs/diag/dmcl_s0
"""
import argparse
import json
import os.path as osp
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, osp.dirname(__file__))
from common import REPO, _replace_prefixes, run_tool  # noqa: E402


def build_config(cfg_file, work_dir, data_dir, seed, epochs=None, val_interval=1,
                 options=None, prefixes=None):
    """The toy config with the suite's data / work-dir paths and a validation every
    ``val_interval`` epochs; written to ``<work_dir>/config.py`` (returned)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(REPO / cfg_file))
    d = cfg.to_dict()
    mapping = {'data/toy': str(Path(data_dir).resolve())}
    mapping.update(prefixes or {})
    d = _replace_prefixes(d, mapping)
    cfg = Config(d)
    if options:
        cfg.merge_from_dict(options)
    cfg.randomness = dict(seed=seed, deterministic=True, diff_rank_seed=False)
    if epochs:
        cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_begin = 1
    cfg.train_cfg.val_interval = val_interval
    ckpt = cfg.default_hooks.get('checkpoint')
    if ckpt is not None:
        ckpt.update(interval=cfg.train_cfg.max_epochs, max_keep_ckpts=1, save_best=None)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=10)
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    path = Path(work_dir) / 'config.py'
    cfg.dump(str(path))
    return path


def read_scalars(work_dir):
    """Training entries and validation entries of mmengine's ``vis_data/scalars.json``."""
    train, val = [], []
    for path in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                e = json.loads(line)
                (train if 'loss' in e else val).append(e)
    return train, val


def summarise(work_dir, iters_per_epoch=None):
    """Per-epoch table (list of dicts): val metrics, mean winner rates and loss terms."""
    train, val = read_scalars(work_dir)
    per_epoch = defaultdict(lambda: defaultdict(list))
    for e in train:
        ep = e.get('epoch')
        if ep is None:
            continue
        for k, v in e.items():
            if k.startswith('winner_rate.') or k.endswith('.loss_cls') or k.endswith('.loss_kd'):
                per_epoch[ep][k].append(v)
    rows = []
    val_by_epoch = {e['step']: e for e in val}
    for ep in sorted(set(per_epoch) | set(val_by_epoch)):
        row = dict(epoch=ep)
        for k, vs in per_epoch.get(ep, {}).items():
            row[k] = sum(vs) / len(vs)
        for k, v in val_by_epoch.get(ep, {}).items():
            if k.endswith('_top1') and '_class' not in k:
                row['val.' + k] = v
        rows.append(row)
    return rows


def print_summary(rows):
    keys = sorted({k for r in rows for k in r if k != 'epoch'},
                  key=lambda k: (not k.startswith('val.'), not k.startswith('winner'), k))
    print('epoch ' + ' '.join(f'{k:>18s}' for k in keys))
    for r in rows:
        cells = []
        for k in keys:
            v = r.get(k)
            cells.append(f'{"":>18s}' if v is None else f'{v:18.3f}')
        print(f'{r["epoch"]:5d} ' + ' '.join(cells))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config', nargs='?')
    p.add_argument('--data', help='generated toy root (holds sthv2/)')
    p.add_argument('--out', help='work dir of the run')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--epochs', type=int)
    p.add_argument('--val-interval', type=int, default=1)
    p.add_argument('--cfg-options', nargs='+', default=[],
                   help='key=value (python literal) config changes')
    p.add_argument('--prefix', nargs='+', default=[],
                   help='old=new path prefixes (e.g. work_dirs/=<dir>/ for stage checkpoints)')
    p.add_argument('--summary', help='only print the summary of this finished work dir')
    p.add_argument('--json', help='also write the per-epoch summary to this file')
    a = p.parse_args(argv)
    if a.summary:
        rows = summarise(a.summary)
    else:
        import ast
        opts = {}
        for kv in a.cfg_options:
            k, v = kv.split('=', 1)
            try:
                opts[k] = ast.literal_eval(v)
            except (ValueError, SyntaxError):
                opts[k] = v
        prefixes = dict(kv.split('=', 1) for kv in a.prefix)
        cfg = build_config(a.config, a.out, a.data, a.seed, a.epochs, a.val_interval, opts,
                           prefixes)
        run_tool([sys.executable, 'tools/train.py', str(cfg), '--work-dir',
                  str(Path(a.out).resolve())], Path(a.out) / 'train.log')
        rows = summarise(a.out)
    print_summary(rows)
    if a.json:
        Path(a.json).write_text(json.dumps(rows, indent=1))
    return rows


if __name__ == '__main__':
    main()
