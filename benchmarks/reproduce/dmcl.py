"""Seeded reproduction of dmcl.txt Table 1 / Table 2 (MCL training schemes) on SSv2-format data
designed for DMCL (benchmarks/reproduce/designs/sthv2_mutual.py; docs/benchmarks.md ``## DMCL``).

Rows (toy configs in configs/dmcl/toy/, one slim ResNet3d per modality, trained together from
scratch, the same schedule for every row): independent (each network its own CE), SMCL, CMCL,
random teacher (Table 2) and DMCL (T = 2, λ = 0.5), plus DMCL again under seeds + 1000 (the
negative control). Columns: each modality network's top-1, Σ (sum of the three networks'
logits), Φ (oracle: right when any network is right) and Φ − Σ, read from
``MultiModalityMetric`` at the final validation (one clip per video).

Claims, as the paper states them (paired over seeds, percentage points):

* Tab. 1: DMCL's RGB network beats the independently trained one (3 of 4 datasets), and the
  SMCL / CMCL ones;
* Tab. 1 / §4.3: the Φ − Σ gap is smaller for DMCL than for the other schemes;
* Tab. 2: the lowest-loss teacher (DMCL) beats a random teacher for every modality.

Calibration: positive control Σ > RGB for the independent networks (the design puts cues in
depth and flow that RGB lacks in some videos); negative control DMCL RGB vs DMCL RGB under
seeds + 1000.

The schedule (``EPOCHS``, ``LR``) was chosen on the independent row only (docs/benchmarks.md).
Figures: the RGB network per row, the independent networks' training CE per epoch (the paper's
Fig. 3 right) and DMCL's winner rate per modality per epoch.

Usage::

    python benchmarks/reproduce/dmcl.py                 # 5 seeds, work_dirs/reproduce/dmcl
    python benchmarks/reproduce/dmcl.py --smoke --out /tmp/dmcl_smoke
"""
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import NEGATIVE_CONTROL_OFFSET, Suite, parse_args, plot_bars  # noqa: E402
from designs import sthv2_mutual as design  # noqa: E402

CFG = 'configs/dmcl/toy'
MODS = ['rgb', 'depth', 'flow']
KEYS = [f'{m}_top1' for m in MODS] + ['fused_top1', 'oracle_top1']
COLUMNS = KEYS + ['gap_top1']
HEADERS = [f'{m} top-1 (%)' for m in MODS] + ['Σ (%)', 'Φ (%)', 'Φ − Σ']
ROWS = ['independent', 'smcl', 'cmcl', 'random_teacher', 'dmcl']
NEG = f'dmcl (seeds +{NEGATIVE_CONTROL_OFFSET})'
# --smoke: every row (each scheme is its own loss config; about 1.5 s each), so every claim and
# both controls are computed
SMOKE_ROWS = ROWS + [NEG]
EPOCHS = 20     # chosen on the independent row (docs/benchmarks.md ## DMCL)
LR = 1e-3

# The paper's numbers (dmcl.txt Tab. 1 / Tab. 2, NW-UCLA row; other datasets in the text).
TAB1_NWUCLA = dict(independent=dict(rgb=87.53, fused=93.79, oracle=97.86),
                   smcl=dict(rgb=24.83, fused=49.00, oracle=86.79),
                   cmcl=dict(rgb=11.13, fused=84.73, oracle=89.65),
                   dmcl=dict(rgb=93.64, fused=93.28, oracle=97.64))
TAB2_NWUCLA = dict(random_teacher=dict(rgb=89.57, depth=57.81, flow=89.43),
                   dmcl=dict(rgb=93.64, depth=83.29, flow=91.07))


def add_gap(suite, row, seed):
    """Add Φ − Σ (``gap_top1``) to the metrics recorded for ``row`` / ``seed``."""
    m = suite.results[row][seed]
    m['gap_top1'] = m['oracle_top1'] - m['fused_top1']


def paper_gap(row):
    return round(TAB1_NWUCLA[row]['oracle'] - TAB1_NWUCLA[row]['fused'], 2)


def main(argv=None):
    args = parse_args('DMCL Table 1 / 2 (MCL training schemes) on SSv2-format data designed '
                      'for DMCL', argv)
    suite = Suite('dmcl', args, smoke_rows=SMOKE_ROWS)
    design.generate_for_suite(suite)
    suite.parallel_train(__file__)
    opts = design.config_options(MODS, EPOCHS, LR)
    suite.extra['schedule'] = dict(epochs=suite.epochs or EPOCHS, lr=LR, optimizer='AdamW')
    for seed in suite.seeds:
        for r in ROWS:
            if suite.train(f'{CFG}/{r}_sthv2.py', f'dmcl_{r}', seed, KEYS, options=opts,
                           row=r) is not None:
                add_gap(suite, r, seed)
        # negative control: DMCL itself under other seeds (init, data order, augmentation)
        if suite.train(f'{CFG}/dmcl_sthv2.py', 'dmcl_dmcl', seed, KEYS, options=opts, row=NEG,
                       seed_offset=NEGATIVE_CONTROL_OFFSET) is not None:
            add_gap(suite, NEG, seed)
    if suite.only_training():
        return None

    nw = 'NW-UCLA'

    def paper(ref, a, b):
        return dict(ref=f'dmcl.txt {ref}', a=a, b=b, diff=round(a - b, 2))

    suite.claim('DMCL RGB > independent RGB (Tab. 1; 3 of 4 datasets)', 'dmcl', 'independent',
                'rgb_top1', paper=paper(f'Tab. 1, {nw}, RGB', 93.64, 87.53))
    for r in ('smcl', 'cmcl'):
        suite.claim(f'DMCL RGB > {r.upper()} RGB (Tab. 1)', 'dmcl', r, 'rgb_top1',
                    paper=paper(f'Tab. 1, {nw}, RGB', 93.64, TAB1_NWUCLA[r]['rgb']))
    for r in ('independent', 'smcl', 'cmcl'):
        # a = the other scheme's gap, b = DMCL's: "> 0" means DMCL's gap is smaller
        suite.claim(f'Φ − Σ gap smaller for DMCL than {r} (Tab. 1, §4.3)', r, 'dmcl',
                    'gap_top1', paper=paper(f'Tab. 1, {nw}, Φ − Σ ({r} vs DMCL)',
                                            paper_gap(r), paper_gap('dmcl')))
    for mod in MODS:
        suite.claim(f'DMCL {mod} > random-teacher {mod} (Tab. 2)', 'dmcl', 'random_teacher',
                    f'{mod}_top1', paper=paper(f'Tab. 2, {nw}, {mod}', TAB2_NWUCLA['dmcl'][mod],
                                               TAB2_NWUCLA['random_teacher'][mod]))
    suite.claim('positive control: independent Σ > independent RGB (planted: depth and flow '
                'carry cues that RGB lacks in some videos)', 'independent', 'independent',
                'fused_top1', b_metric='rgb_top1', control='positive',
                paper=paper(f'Tab. 1, {nw}, independent Σ vs RGB', 93.79, 87.53))
    suite.claim(f'negative control: DMCL RGB vs DMCL RGB under seeds +{NEGATIVE_CONTROL_OFFSET}',
                'dmcl', NEG, 'rgb_top1', control='negative')

    rows = ROWS + [NEG]
    figures = [plot_bars(suite.out / 'dmcl_rgb_top1.png', suite, rows, 'rgb_top1',
                         'DMCL Tab. 1 (designed SSv2 data): RGB network',
                         ylabel='RGB top-1 (%)')]
    figures += plot_training_curves(suite)
    table = suite.table(rows, COLUMNS, HEADERS)
    return suite.finish([('Tab. 1 / 2 layout (designed SSv2 data, 8 classes, chance 12.5; '
                          'top-1 %)', table)], figures)


def _epoch_means(suite, row_run, keys):
    """Per seed: ``key -> {epoch: mean of the logged values}`` from the runs' training logs."""
    from collections import defaultdict
    out = {}
    for seed in suite.seeds:
        per = defaultdict(lambda: defaultdict(list))
        for path in sorted(suite.work_dir(row_run, seed).glob('*/vis_data/scalars.json')):
            for line in path.read_text().splitlines():
                e = json.loads(line)
                if 'loss' in e and 'epoch' in e:
                    for k in keys:
                        if k in e:
                            per[k][e['epoch']].append(e[k])
        out[seed] = {k: {ep: sum(v) / len(v) for ep, v in d.items()} for k, d in per.items()}
    return out


def plot_training_curves(suite):
    """Fig. 3-right analogue (the independent networks' training CE per epoch) and DMCL's
    winner rate per modality per epoch, mean ± std over seeds; ``[]`` without logged values."""
    from common import plot_curves
    figs = []
    for run, keys, name, title, ylabel in (
            ('dmcl_independent', [f'{m}.loss_cls' for m in MODS], 'dmcl_independent_ce.png',
             'Independent networks: training CE (cf. dmcl.txt Fig. 3 right)', 'training CE'),
            ('dmcl_dmcl', [f'winner_rate.{m}' for m in MODS], 'dmcl_winner_rate.png',
             'DMCL: fraction of training samples each network wins', 'winner rate')):
        logs = _epoch_means(suite, run, keys)
        epochs = sorted(set.intersection(*[set(logs[s].get(k, {})) for s in suite.seeds
                                           for k in keys])) if logs else []
        if not epochs:
            continue
        curves = {k.replace('.loss_cls', '').replace('winner_rate.', ''):
                  [[logs[s][k][ep] for s in suite.seeds] for ep in epochs] for k in keys}
        figs.append(plot_curves(suite.out / name, epochs, curves,
                                f'{title} ({len(suite.seeds)} seeds)', 'epoch', ylabel))
    return figs


if __name__ == '__main__':
    main()
