#!/usr/bin/env python
"""Mean (and sample standard deviation) of the test metrics of several runs, e.g. the three
NTU120-mini versions DMCL averages (dmcl.txt §4.1: "When results are reported on NTU120^mini
they are averaged over the three runs").

    python tools/analysis/mean_of_runs.py RUN [RUN ...] [--keys rgb_top1 fused_top1 ...]
        [--out mean.json]

A RUN is a metrics JSON file or a work dir: its newest ``<timestamp>/<timestamp>.json``, the
file ``tools/test.py`` writes (mmengine's ``LoggerHook``). Only keys every run reports are
averaged (``--keys`` selects some); numbers are printed ×100 when they are fractions of 1.

Raises (exits with) a message naming the run when a work dir holds no test metrics or a file is
not a JSON object of numbers.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import sys


def metrics_file(run: str) -> str:
    """``run`` itself, or the newest ``<ts>/<ts>.json`` under a work dir."""
    if osp.isfile(run):
        return run
    found = [p for p in glob.glob(osp.join(run, '*', '*.json'))
             if osp.basename(p)[:-5] == osp.basename(osp.dirname(p))]
    if not found:
        raise SystemExit(f'{run}: no test metrics (<timestamp>/<timestamp>.json); run '
                         'tools/test.py with this work dir first')
    return max(found, key=os.path.getmtime)


def load_metrics(path: str) -> dict:
    with open(path) as f:
        data = json.load(f)
    if not isinstance(data, dict):
        raise SystemExit(f'{path}: expected a JSON object of metrics, got {type(data).__name__}')
    return {k: float(v) for k, v in data.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


def mean_of_runs(runs, keys=None) -> dict:
    """``key -> dict(mean, std, n, values)`` over ``runs`` (metric dicts); ``std`` is the sample
    standard deviation (0 for one run)."""
    common = set(runs[0]).intersection(*runs[1:])
    keys = [k for k in (keys or sorted(common)) if k in common]
    out = {}
    for k in keys:
        vals = [r[k] for r in runs]
        mean = sum(vals) / len(vals)
        var = sum((v - mean) ** 2 for v in vals) / (len(vals) - 1) if len(vals) > 1 else 0.0
        out[k] = dict(mean=mean, std=math.sqrt(var), n=len(vals), values=vals)
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('runs', nargs='+', help='metrics JSON files or work dirs')
    p.add_argument('--keys', nargs='*', help='metric keys (default: every common key)')
    p.add_argument('--out', help='write the summary as JSON')
    args = p.parse_args(argv)
    files = [metrics_file(r) for r in args.runs]
    summary = mean_of_runs([load_metrics(f) for f in files], args.keys)
    if not summary:
        raise SystemExit(f'no metric common to every run ({files})')
    for f in files:
        print(f'run: {f}')
    for k, s in summary.items():
        scale = 100.0 if all(0.0 <= v <= 1.0 for v in s['values']) else 1.0
        print(f'{k}: {s["mean"] * scale:.2f} ± {s["std"] * scale:.2f} (n={s["n"]})')
    if args.out:
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(dict(runs=files, metrics=summary), f, indent=1)
    return 0


if __name__ == '__main__':
    sys.exit(main())
