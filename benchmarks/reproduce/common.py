"""Shared machinery of the seeded reproduction suites (``benchmarks/reproduce/<method>.py``).

A suite trains every row of one paper table on the toy data for S seeds with MMAction2's own
``tools/train.py`` (one subprocess per run, the user's command), reads each run's final
validation metrics, and reports mean ± std per row and, for each claim of the paper, the paired
difference (method − baseline, seed by seed) with a 95 % Student-t interval.

Every run's exact config is dumped next to its checkpoint (``<out>/seed<S>/<run>/config.py``):
the suite's only changes to the toy config are

* data paths: ``data/toy`` → the suite's own generated data (``<out>/data``);
* work dirs: ``work_dirs/`` → ``<out>/seed<S>/`` (so a student finds the teacher of its seed);
* ``randomness = dict(seed=S, deterministic=True)`` (mmengine seeds the dataloader workers);
* one validation, after the last epoch (no checkpoint selection on the validation set);
* ``--epochs`` (smoke runs only) shortens ``train_cfg.max_epochs``.

The schedule and the model of each row stay those of the toy config, one schedule per table.
A finished run (``result.json`` present) is reused, so an interrupted suite resumes.
"""
import argparse
import hashlib
import json
import math
import os
import os.path as osp
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

# Sizes of the generated data: ``full`` is the suite's (>= 200 validation videos per table),
# ``smoke`` a tiny one for the test that runs every suite for 1 seed and 2 epochs.
EPIC_SCALES = dict(
    full=['--epic-participants', '4', '--epic-train-videos', '2', '--epic-val-videos', '2',
          '--epic-segments', '32'],
    smoke=['--epic-participants', '2', '--epic-train-videos', '1', '--epic-val-videos', '1',
           '--epic-segments', '4'])
STHV2_SCALES = dict(
    full=['--sthv2-train-per-class', '40', '--sthv2-val-per-class', '36'],
    smoke=['--sthv2-train-per-class', '2', '--sthv2-val-per-class', '1'])


# ------------------------------------------------------------------------------- statistics
def mean_std(values):
    """Mean and sample standard deviation (ddof=1; ``nan`` for one value) of a list of floats."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError('mean_std: no values')
    m = sum(vals) / len(vals)
    if len(vals) < 2:
        return m, float('nan')
    return m, math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))


def paired_difference(a, b, confidence=0.95):
    """Paired difference ``a - b`` over seeds with a two-sided Student-t interval.

    Args:
        a, b (list[float]): one value per seed, the same seeds in the same order.
        confidence (float): coverage of the interval.

    Returns:
        dict: ``diffs`` (per seed), ``mean``, ``std`` (ddof=1), ``ci`` ([low, high]; ``nan``
        for one seed), ``n``.

    Raises:
        ValueError: if ``a`` and ``b`` differ in length or are empty.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f'paired_difference: need equal, non-empty lists, got {len(a)} and '
                         f'{len(b)} values')
    diffs = [float(x) - float(y) for x, y in zip(a, b)]
    m, s = mean_std(diffs)
    n = len(diffs)
    if n < 2:
        ci = [float('nan'), float('nan')]
    else:
        from scipy.stats import t
        half = float(t.ppf(0.5 + confidence / 2, n - 1)) * s / math.sqrt(n)
        ci = [m - half, m + half]
    return dict(diffs=diffs, mean=m, std=s, ci=ci, n=n)


def verdict(diff, kind='greater'):
    """``held`` / ``not held`` / ``inconclusive`` for a paired difference (see README).

    ``greater`` (a > b): held when the whole 95 % interval is above 0, not held when the mean
    difference is <= 0, inconclusive otherwise. ``not_less`` (a >= b): held when the mean
    difference is >= 0, not held when the whole interval is below 0, inconclusive otherwise.
    One seed gives no interval: only the sign is reported, as ``... (1 seed)``.
    """
    m, (lo, hi) = diff['mean'], diff['ci']
    if diff['n'] < 2:
        ok = m > 0 if kind == 'greater' else m >= 0
        return ('held' if ok else 'not held') + ' (1 seed)'
    if kind == 'greater':
        return 'held' if lo > 0 else ('not held' if m <= 0 else 'inconclusive')
    if kind == 'not_less':
        return 'held' if m >= 0 else ('not held' if hi < 0 else 'inconclusive')
    raise ValueError(f'verdict: unknown kind {kind!r} (greater, not_less)')


def fmt_pm(values, scale=100.0, digits=1):
    """``'62.5 ± 1.3'`` (mean ± std of ``values × scale``); ``'62.5'`` for one value."""
    m, s = mean_std([v * scale for v in values])
    return f'{m:.{digits}f}' if math.isnan(s) else f'{m:.{digits}f} ± {s:.{digits}f}'


# ------------------------------------------------------------------------------- configs
def _replace_prefixes(obj, mapping):
    if isinstance(obj, str):
        for old, new in mapping.items():
            if obj == old or obj.startswith(old.rstrip('/') + '/') or (
                    old.endswith('/') and obj.startswith(old)):
                return new + obj[len(old):]
        return obj
    if isinstance(obj, dict):
        return type(obj)({k: _replace_prefixes(v, mapping) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace_prefixes(v, mapping) for v in obj)
    return obj


def _last_metrics(work_dir, keys):
    """The last validation entry of mmengine's ``vis_data/scalars.json`` holding all ``keys``."""
    found = None
    for path in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if all(k in entry for k in keys):
                    found = entry
    if found is None:
        raise RuntimeError(f'{work_dir}: no validation entry with {keys} in '
                           f'*/vis_data/scalars.json (see {work_dir}/train.log)')
    return found


class Suite:
    """One method's table: runs, results, claims, JSON and Markdown output.

    Args:
        name (str): method name (``karmma``, ``mm2rgb``, ...), used in file names.
        args (argparse.Namespace): from :func:`parse_args`.
    """

    def __init__(self, name, args):
        self.name = name
        self.args = args
        self.out = Path(args.out or f'work_dirs/reproduce/{name}').resolve()
        self.data_dir = self.out / 'data'
        self.seeds = list(args.seed_list) if args.seed_list else list(range(args.seeds))
        self.scale = 'smoke' if args.smoke else 'full'
        self.epochs = args.epochs if args.epochs else (2 if args.smoke else None)
        self.results = {}      # row -> seed -> metrics dict
        self.run_times = {}    # row -> seed -> seconds
        self.claims = []
        self.extra = {}
        self.t0 = time.time()
        self.out.mkdir(parents=True, exist_ok=True)

    # ---- data
    def generate_data(self, datasets=('epic', 'sthv2')):
        """Generate the toy data once (seed 0, the same for every row and seed) into ``<out>/data``."""
        scale_args = []
        if 'epic' in datasets:
            scale_args += EPIC_SCALES[self.scale]
        if 'sthv2' in datasets:
            scale_args += STHV2_SCALES[self.scale]
        stamp = self.data_dir / '.suite_args.json'
        gen = REPO / 'tools/data/generate_toy_dataset.py'
        want = dict(datasets=list(datasets), args=scale_args,
                    generator_sha256=hashlib.sha256(gen.read_bytes()).hexdigest())
        if not (stamp.exists() and json.loads(stamp.read_text()) == want):
            self.run_cmd([sys.executable, 'tools/data/generate_toy_dataset.py', '--out-dir',
                          str(self.data_dir), '--seed', '0', '--datasets', *datasets,
                          *scale_args], self.out / 'generate_data.log')
            stamp.write_text(json.dumps(want))
        self.extra['val_items'] = self._count_val_items(datasets)

    def _count_val_items(self, datasets):
        """Validation videos / segments of the generated datasets (reported in the summary)."""
        n = 0
        if 'epic' in datasets:
            with open(self.data_dir / 'epic/annotations/EPIC_100_validation.csv') as f:
                n += sum(1 for _ in f) - 1   # header row
        if 'sthv2' in datasets:
            with open(self.data_dir / 'sthv2/annotations/validation.json') as f:
                n += len(json.load(f))
        return n

    # ---- running
    def run_cmd(self, cmd, log):
        env = dict(os.environ)
        env.setdefault('OMP_NUM_THREADS', '1')
        env.setdefault('MKL_NUM_THREADS', '1')
        env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')]).rstrip(
            os.pathsep)
        Path(log).parent.mkdir(parents=True, exist_ok=True)
        with open(log, 'w') as f:
            proc = subprocess.run(cmd, cwd=REPO, env=env, stdout=f, stderr=subprocess.STDOUT)
        if proc.returncode:
            tail = ''.join(open(log).readlines()[-30:])
            raise RuntimeError(f'{" ".join(map(str, cmd))} failed (rc={proc.returncode}), '
                               f'log {log}:\n{tail}')

    def seed_dir(self, seed):
        return self.out / f'seed{seed}'

    def work_dir(self, run, seed):
        return self.seed_dir(seed) / run

    def config(self, cfg_file, run, seed, options=None):
        """Write the run's config (toy config + the suite's changes, see module doc); return it."""
        from mmengine.config import Config
        cfg = Config.fromfile(str(REPO / cfg_file))
        d = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg._cfg_dict.to_dict()
        d = _replace_prefixes(d, {'data/toy': str(self.data_dir),
                                  'work_dirs/': str(self.seed_dir(seed)) + '/'})
        cfg = Config(d)
        if options:
            cfg.merge_from_dict(options)
        cfg.randomness = dict(seed=seed, deterministic=True, diff_rank_seed=False)
        if self.epochs:
            cfg.train_cfg.max_epochs = self.epochs
        epochs = cfg.train_cfg.max_epochs
        cfg.train_cfg.val_interval = epochs
        ckpt = cfg.default_hooks.get('checkpoint')
        if ckpt is not None:
            ckpt.update(interval=epochs, max_keep_ckpts=1, save_best=None)
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
        wd = self.work_dir(run, seed)
        wd.mkdir(parents=True, exist_ok=True)
        path = wd / 'config.py'
        cfg.dump(str(path))
        return path

    def train(self, cfg_file, run, seed, keys, options=None, row=None):
        """Train ``cfg_file`` as ``run`` for ``seed``; return its final validation metrics.

        Args:
            cfg_file (str): toy config, relative to the repository root.
            run (str): work dir name under ``<out>/seed<S>/`` (keep the toy demo's names, e.g.
                ``toy_teacher_epic``: students find their teachers there).
            seed (int): the run's seed.
            keys (list[str]): metric keys to read from the final validation (e.g. ``['top1']``).
            options (dict): extra config changes (``Config.merge_from_dict``), the same for every
                row of a table.
            row (str): record the metrics under this table row (default: do not record).
        """
        wd = self.work_dir(run, seed)
        result = wd / 'result.json'
        if result.exists():
            res = json.loads(result.read_text())
        else:
            cfg_path = self.config(cfg_file, run, seed, options)
            t0 = time.time()
            self.run_cmd([sys.executable, 'tools/train.py', str(cfg_path), '--work-dir', str(wd)],
                         wd / 'train.log')
            entry = _last_metrics(wd, keys)
            res = dict(config=str(cfg_file), seed=seed, wall_s=round(time.time() - t0, 1),
                       metrics={k: entry[k] for k in keys})
            result.write_text(json.dumps(res, indent=1))
        if row is not None:
            self.record(row, seed, res['metrics'], res['wall_s'])
        print(f'[{self.name}] seed {seed} {run}: '
              + ' '.join(f'{k}={v:.4f}' for k, v in res['metrics'].items())
              + f' ({res["wall_s"]:.0f} s)', flush=True)
        return res['metrics']

    def checkpoint(self, run, seed):
        """The final checkpoint of a finished run (``last_checkpoint`` of mmengine)."""
        wd = self.work_dir(run, seed)
        last = (wd / 'last_checkpoint').read_text().strip()
        return last if osp.isabs(last) else str(wd / last)

    def record(self, row, seed, metrics, wall_s=None):
        self.results.setdefault(row, {})[seed] = dict(metrics)
        if wall_s is not None:
            self.run_times.setdefault(row, {})[seed] = wall_s

    # ---- reporting
    def values(self, row, metric):
        """Per-seed values of ``metric`` for ``row``, in the order of ``self.seeds``."""
        per_seed = self.results[row]
        return [per_seed[s][metric] for s in self.seeds]

    def claim(self, text, a, b, metric, kind='greater', b_metric=None, scale=100.0):
        """Measure ``a - b`` (rows, per seed) for ``metric`` and record a claim of the paper."""
        d = paired_difference([v * scale for v in self.values(a, metric)],
                              [v * scale for v in self.values(b, b_metric or metric)])
        c = dict(claim=text, a=a, b=b, metric=metric, b_metric=b_metric or metric, kind=kind,
                 **d, verdict=verdict(d, kind))
        self.claims.append(c)
        return c

    def table(self, rows, metrics, headers=None, scale=100.0):
        """Markdown table: one line per row, mean ± std over seeds per metric."""
        headers = headers or metrics
        lines = ['| row | ' + ' | '.join(headers) + ' |',
                 '|---|' + '---:|' * len(metrics)]
        for r in rows:
            cells = []
            for m in metrics:
                try:
                    cells.append(fmt_pm(self.values(r, m), scale))
                except KeyError:
                    cells.append('–')
            lines.append(f'| {r} | ' + ' | '.join(cells) + ' |')
        return '\n'.join(lines)

    def claims_table(self):
        lines = ['| claim | a − b (per seed) | mean [95 % CI] | verdict |', '|---|---|---|---|']
        for c in self.claims:
            per = ', '.join(f'{x:+.1f}' for x in c['diffs'])
            lo, hi = c['ci']
            ci = '' if math.isnan(lo) else f' [{lo:+.1f}, {hi:+.1f}]'
            lines.append(f'| {c["claim"]} | {per} | {c["mean"]:+.1f}{ci} | {c["verdict"]} |')
        return '\n'.join(lines)

    def finish(self, tables, figures=()):
        """Write ``results.json`` and ``summary.md`` under ``<out>`` and print the summary.

        Args:
            tables (list[tuple[str, str]]): (title, markdown table) pairs.
            figures (list[str]): PNG files already written under ``<out>`` (linked from the
                summary by their file names).
        """
        wall = time.time() - self.t0
        train_s = sum(t for per in self.run_times.values() for t in per.values())
        head = (f'## {self.name}: seeds {self.seeds}, data {self.scale} '
                f'({self.extra.get("val_items", "?")} validation items), '
                f'suite wall time {wall / 60:.1f} min (training {train_s / 60:.1f} min; '
                f'finished runs are reused)\n')
        body = '\n\n'.join(f'{t}\n\n{tab}' for t, tab in tables)
        text = head + '\n' + body + '\n\nClaims (percentage points, paired over seeds):\n\n' \
            + self.claims_table() + '\n'
        if figures:
            text += '\n' + '\n'.join(f'![{osp.basename(f)}]({osp.basename(f)})' for f in figures) + '\n'
        (self.out / 'summary.md').write_text(text)
        payload = dict(method=self.name, seeds=self.seeds, data_scale=self.scale,
                       epochs_override=self.epochs, wall_s=round(wall, 1), results=self.results,
                       run_wall_s=self.run_times, claims=self.claims, **self.extra)
        (self.out / 'results.json').write_text(json.dumps(payload, indent=1))
        print(text, flush=True)
        return text


# ------------------------------------------------------------------------------- plots
def plot_bars(path, suite, rows, metric, title, ylabel='top-1 (%)', scale=100.0):
    """Bars (mean over seeds) with error bars (std) for ``rows``; saved as a PNG."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    means, stds = [], []
    for r in rows:
        m, s = mean_std([v * scale for v in suite.values(r, metric)])
        means.append(m)
        stds.append(0.0 if math.isnan(s) else s)
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(rows)), 3.5))
    ax.bar(range(len(rows)), means, yerr=stds, capsize=4, color='tab:blue', alpha=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(rows, rotation=30, ha='right', fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(f'{title} ({len(suite.seeds)} seeds, mean ± std)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def plot_curves(path, xs, curves, title, xlabel, ylabel='top-1 (%)'):
    """Lines with a ±std band: ``curves`` maps a label to per-x lists of per-seed values (%)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, per_x in curves.items():
        ms = [mean_std(v) for v in per_x]
        m = [a for a, _ in ms]
        s = [0.0 if math.isnan(b) else b for _, b in ms]
        ax.plot(xs, m, marker='o', label=label)
        ax.fill_between(xs, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)],
                        alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------------------- CLI
def parse_args(description, argv=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--seeds', type=int, help='seeds 0..N-1 (default 3; 1 with --smoke)')
    p.add_argument('--seed-list', type=int, nargs='+', help='explicit seeds (overrides --seeds)')
    p.add_argument('--out', help='output dir (default work_dirs/reproduce/<method>)')
    p.add_argument('--epochs', type=int, help='override every run\'s max_epochs (smoke only: '
                   'the tables use the configs\' schedules)')
    p.add_argument('--smoke', action='store_true',
                   help='tiny data, 2 epochs: checks that the suite runs end to end')
    args = p.parse_args(argv)
    if args.seeds is None:
        args.seeds = 1 if args.smoke else 3
    return args
