"""Seeded reproduction of dmcl.txt Table 1 / Table 2 (MCL training schemes) on the toy SSv2 data.

Rows (toy configs in configs/dmcl/toy/, the order of tools/dmcl_toy_demo.sh): the five training
schemes of an RGB + depth + flow ensemble trained together from scratch: independent (each
network with its own CE), SMCL, CMCL, random teacher (Table 2) and DMCL (T = 2, λ = 0.5).
Columns: each modality network's top-1, Σ (sum of the three networks' logits) and Φ (oracle:
right when any network is right), read from ``MultiModalityMetric`` at the final validation
(216 toy validation videos at ``full`` scale, one clip per video).

Claims of the paper (Table 1, §4.3 "Comparison vs. MCL variants", Table 2), paired over seeds:

* DMCL Σ > independent Σ (the issue's claim; in Table 1 this holds on none of the four datasets
  by more than noise: 93.28 vs 93.79 on NWUCLA; the paper's headline is the RGB network);
* DMCL RGB > independent RGB (Table 1: 3 of 4 datasets);
* DMCL Σ > SMCL Σ, > CMCL Σ (Table 1: every dataset) and > random teacher Σ (Table 2).

Toy deviation (every row and modality alike): the R(2+1)D-18 networks are replaced by a slim
ResNet3d, with one AdamW schedule for every row (configs/_base_/datasets/toy_sthv2_dmcl.py says
why).

Usage::

    python benchmarks/reproduce/dmcl.py                 # 3 seeds, work_dirs/reproduce/dmcl
    python benchmarks/reproduce/dmcl.py --smoke --out /tmp/dmcl_smoke
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import Suite, parse_args, plot_bars  # noqa: E402

CFG = 'configs/dmcl/toy'
MODS = ['rgb', 'depth', 'flow']
KEYS = [f'{m}_top1' for m in MODS] + ['fused_top1', 'oracle_top1']
HEADERS = [f'{m} top-1 (%)' for m in MODS] + ['Σ (%)', 'Φ (%)']
ROWS = ['independent', 'smcl', 'cmcl', 'random_teacher', 'dmcl']
# --smoke: the schemes share one distiller; the smoke trains the plain one and the method
SMOKE_ROWS = ['independent', 'dmcl']


def main(argv=None):
    args = parse_args('DMCL Table 1 / 2 (MCL training schemes) on the toy SSv2 data', argv)
    suite = Suite('dmcl', args, smoke_rows=SMOKE_ROWS)
    suite.generate_data(('sthv2', ))
    for seed in suite.seeds:
        for r in ROWS:
            suite.train(f'{CFG}/{r}_sthv2.py', f'toy_dmcl_{r}_sthv2', seed, KEYS, row=r)

    suite.claim('DMCL Σ > independent Σ', 'dmcl', 'independent', 'fused_top1')
    suite.claim('DMCL RGB > independent RGB (Table 1)', 'dmcl', 'independent', 'rgb_top1')
    for r, ref in (('smcl', 'Table 1'), ('cmcl', 'Table 1'), ('random_teacher', 'Table 2')):
        suite.claim(f'DMCL Σ > {r} Σ ({ref})', 'dmcl', r, 'fused_top1')
    for r, ref in (('smcl', 'Table 1'), ('cmcl', 'Table 1'), ('random_teacher', 'Table 2')):
        suite.claim(f'DMCL RGB > {r} RGB ({ref})', 'dmcl', r, 'rgb_top1')

    figures = [plot_bars(suite.out / 'dmcl_fused_top1.png', suite, ROWS, 'fused_top1',
                         'DMCL toy Table 1: Σ (sum of RGB, depth, flow logits)',
                         ylabel='Σ top-1 (%)'),
               plot_bars(suite.out / 'dmcl_rgb_top1.png', suite, ROWS, 'rgb_top1',
                         'DMCL toy Table 1: RGB network', ylabel='RGB top-1 (%)')]
    table = suite.table(ROWS, KEYS, HEADERS)
    return suite.finish([('Table 1 / 2 (toy SSv2 with depth, top-1 %; chance 16.7)', table)],
                        figures)


if __name__ == '__main__':
    main()
