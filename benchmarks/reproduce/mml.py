"""Seeded reproduction of mutual-modality-learning.txt (ML / MML, Tab. 7 and Tab. 8) on
SSv2-format data designed for it (benchmarks/reproduce/designs/sthv2_mutual.py;
docs/benchmarks.md ``## Mutual (Modality) Learning``).

Runs per seed (toy configs in configs/mml/toy/, one slim ResNet3d per network, every stage the
same schedule):

* stage 1 (Fig. 1, green): two RGB networks trained with CE **in separate runs** ("RGB" with
  the suite's seed S, "RGB2" with seed S + 500: different initialisations obtained the same
  way, as the paper trains them);
* stage 2, every row initialised from stage 1 and trained for one more stage of the same
  length: ``ce`` (RGB from RGB, CE alone: the same-length control), ``flow_ce`` (Flow from RGB,
  CE alone), ``ml`` (Tab. 7 row 5: RGB from RGB + RGB from RGB2, Eq. 1–2), ``mml`` (Tab. 7 row
  1 / Tab. 8 row 2: RGB from RGB + Flow from RGB), ``mml3`` (Tab. 8 row 6: RGB, Flow and
  RGBDiff from RGB on the paper's M-network equation, target ``peers``);
* ``mml_seed+1000``: ``mml`` again from the same stage-1 network under seed S + 1000 (the
  negative control).

Metric: each network's top-1 (``MultiModalityMetric``, final validation, one clip per video);
the paired claims use the network initialised from "RGB" (seed S) in every row.

Claims (paired over seeds, percentage points), with the paper's numbers: MML RGB > ML RGB
(Tab. 7 rows 1 vs 5); ML RGB and MML RGB > CE RGB of the same length (the paper has no
same-length CE row: its CE number is one stage shorter); MML flow > CE flow (Tab. 4 vs Tab. 1);
three-network MML not worse than two-network MML for RGB and flow (Tab. 8 rows 6 vs 2;
non-inferiority, margin ``MARGIN`` points). Calibration: positive control MML Σ > MML flow
(planted: flow carries no hand shape); negative control MML RGB vs itself under seeds + 1000.

The schedule (``EPOCHS`` per stage, ``LR``) was chosen on the stage-1 CE RGB network only.

Usage::

    python benchmarks/reproduce/mml.py                 # 5 seeds, work_dirs/reproduce/mml
    python benchmarks/reproduce/mml.py --smoke --out /tmp/mml_smoke
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import NEGATIVE_CONTROL_OFFSET, Suite, parse_args, plot_bars  # noqa: E402
from designs import sthv2_mutual as design  # noqa: E402

CFG = 'configs/mml/toy'
EPOCHS = 20      # per stage; chosen on the stage-1 CE RGB network (docs/benchmarks.md)
LR = 1e-3
# non-inferiority margin (points) of the three-network claims: the largest difference the paper
# calls no effect (Tab. 1: flow initialisation "useless" for RGB, 58.10 vs 57.53)
MARGIN = 0.6
RGB2_OFFSET = 500
NEG = f'mml (seeds +{NEGATIVE_CONTROL_OFFSET})'
# run kind -> (config stem, run name, metric keys, members of the config)
RUNS = dict(rgb=('rgb', 'toy_mml_rgb_sthv2', ['rgb_top1'], ['rgb']),
            ce=('ce', 'toy_mml_ce_sthv2', ['rgb_top1'], ['rgb']),
            flow_ce=('flow', 'toy_mml_flow_sthv2', ['flow_top1'], ['flow']),
            ml=('ml', 'toy_mml_ml_sthv2',
                ['rgb_top1', 'rgb_b_top1', 'fused_top1', 'oracle_top1'], ['rgb', 'rgb_b']),
            mml=('mml_from_rgb', 'toy_mml_mmlrgb_sthv2',
                 ['rgb_top1', 'flow_top1', 'fused_top1', 'oracle_top1'], ['rgb', 'flow']),
            mml3=('mml3_from_rgb', 'toy_mml_mml3rgb_sthv2',
                  ['rgb_top1', 'flow_top1', 'rgb_diff_top1', 'fused_top1', 'oracle_top1'],
                  ['rgb', 'flow', 'rgb_diff']))
ROWS = ['rgb', 'rgb2', 'ce', 'flow_ce', 'ml', 'mml', 'mml3', NEG]
COLUMNS = ['rgb_top1', 'rgb_b_top1', 'flow_top1', 'rgb_diff_top1', 'fused_top1', 'oracle_top1']
# --smoke: every row, each its own kind of run (stage 1 and its second run, CE from stage 1,
# Flow from RGB (conv1 from a 3-channel checkpoint), two-network ML / MML, three-network MML on
# ``peers``, the negative control reading stage 1 of other seeds); about 2 s each
SMOKE_ROWS = list(ROWS)
HEADERS = ['RGB top-1 (%)', '2nd RGB top-1 (%)', 'flow top-1 (%)', 'RGBDiff top-1 (%)', 'Σ (%)',
           'Φ (%)']


def main(argv=None):
    args = parse_args('Mutual (Modality) Learning (Tab. 7 / Tab. 8) on SSv2-format data '
                      'designed for it', argv)
    suite = Suite('mml', args, smoke_rows=SMOKE_ROWS)
    design.generate_for_suite(suite)
    suite.parallel_train(__file__)
    suite.extra['schedule'] = dict(epochs_per_stage=suite.epochs or EPOCHS, lr=LR,
                                   optimizer='AdamW')

    def run(kind, seed, row=None, seed_offset=0, extra=None):
        stem, name, keys, members = RUNS[kind]
        opts = dict(design.config_options(members, EPOCHS, LR), **(extra or {}))
        suite.train(f'{CFG}/{stem}_sthv2.py', name, seed, keys, options=opts, row=row or kind,
                    seed_offset=seed_offset)

    for seed in suite.seeds:
        # stage 1 twice, in separate runs: "RGB" (seed S) and "RGB2" (seed S + 500)
        run('rgb', seed)
        run('rgb', seed, row='rgb2', seed_offset=RGB2_OFFSET)
        stage1 = str(suite.work_dir(RUNS['rgb'][1], seed))
        stage1_b = str(suite.work_dir(RUNS['rgb'][1], seed + RGB2_OFFSET))
        run('ce', seed)
        run('flow_ce', seed)
        run('ml', seed, extra={'model.member_init.rgb_b.checkpoint': stage1_b})
        run('mml', seed)
        run('mml3', seed)
        # negative control: MML from the same stage-1 network under other seeds
        run('mml', seed, row=NEG, seed_offset=NEGATIVE_CONTROL_OFFSET,
            extra={'model.member_init.rgb.checkpoint': stage1,
                   'model.member_init.flow.checkpoint': stage1})
    if suite.only_training():
        return None

    def paper(ref, a, b):
        return dict(ref=f'mutual-modality-learning.txt {ref}', a=a, b=b, diff=round(a - b, 2))

    shorter = 'no same-length CE row in the paper: its CE row is one stage shorter'
    suite.claim('MML RGB > ML RGB (Tab. 7 rows 1 vs 5)', 'mml', 'ml', 'rgb_top1',
                paper=paper('Tab. 7 rows 1 vs 5, RGB from RGB', 60.82, 60.54))
    suite.claim('ML RGB > CE RGB of the same length (Fig. 1, §3.4)', 'ml', 'ce', 'rgb_top1',
                paper=paper(f'Tab. 5 row 3 vs Tab. 1 RGB from ImageNet ({shorter})', 60.54,
                            58.10))
    suite.claim('MML RGB > CE RGB of the same length (Tab. 3)', 'mml', 'ce', 'rgb_top1',
                paper=paper(f'Tab. 3 RGB from RGB + Flow from RGB vs Tab. 1 RGB from ImageNet '
                            f'({shorter})', 60.82, 58.10))
    suite.claim('MML flow > CE flow, both Flow from RGB (Tab. 4 vs Tab. 1)', 'mml', 'flow_ce',
                'flow_top1', paper=paper('Tab. 4 (RGB from RGB, Flow from RGB) vs Tab. 1 Flow '
                                         'from RGB', 57.95, 55.19))
    for mod, pa, pb in (('rgb', 61.03, 60.82), ('flow', 58.03, 57.95)):
        suite.claim(f'three-network MML {mod} not worse than two-network MML {mod} '
                    f'(Tab. 8 rows 6 vs 2)', 'mml3', 'mml', f'{mod}_top1', kind='noninferior',
                    margin=MARGIN, paper=paper('Tab. 8 rows 6 vs 2', pa, pb))
    suite.claim('positive control: MML Σ > MML flow (planted: flow carries no hand shape)',
                'mml', 'mml', 'fused_top1', b_metric='flow_top1', control='positive')
    suite.claim(f'negative control: MML RGB vs MML RGB under seeds +{NEGATIVE_CONTROL_OFFSET}',
                'mml', NEG, 'rgb_top1', control='negative')

    figures = [plot_bars(suite.out / 'mml_rgb_top1.png', suite,
                         ['rgb', 'rgb2', 'ce', 'ml', 'mml', 'mml3', NEG], 'rgb_top1',
                         'MML (designed SSv2 data): RGB network', ylabel='RGB top-1 (%)')]
    table = suite.table(ROWS, COLUMNS, HEADERS)
    return suite.finish([('Tab. 7 / Tab. 8 layout (designed SSv2 data, 8 classes, chance 12.5; '
                          'top-1 %; – = not in the run)', table)], figures)


if __name__ == '__main__':
    main()
