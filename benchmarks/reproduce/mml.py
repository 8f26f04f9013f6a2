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
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import Suite, parse_args, plot_bars  # noqa: E402
from designs import sthv2_mutual as design  # noqa: E402
from dmcl import claim  # noqa: E402

CFG = 'configs/mml/toy'
SEEDS = 5
EPOCHS = 20      # per stage; chosen on the stage-1 CE RGB network (docs/benchmarks.md)
LR = 1e-3
MARGIN = 2.0     # non-inferiority margin (points) of the three-network claims
RGB2_OFFSET = 500
NEG = 'mml_seed+1000'
MEMBERS = ['rgb', 'rgb_b', 'flow', 'rgb_diff']
# row -> (config stem, run name, metric keys)
RUNS = dict(rgb=('rgb', 'toy_mml_rgb_sthv2', ['rgb_top1']),
            ce=('ce', 'toy_mml_ce_sthv2', ['rgb_top1']),
            flow_ce=('flow', 'toy_mml_flow_sthv2', ['flow_top1']),
            ml=('ml', 'toy_mml_ml_sthv2',
                ['rgb_top1', 'rgb_b_top1', 'fused_top1', 'oracle_top1']),
            mml=('mml_from_rgb', 'toy_mml_mmlrgb_sthv2',
                 ['rgb_top1', 'flow_top1', 'fused_top1', 'oracle_top1']),
            mml3=('mml3_from_rgb', 'toy_mml_mml3rgb_sthv2',
                  ['rgb_top1', 'flow_top1', 'rgb_diff_top1', 'fused_top1', 'oracle_top1']))
ROWS = ['rgb', 'rgb2', 'ce', 'flow_ce', 'ml', 'mml', 'mml3', NEG]
COLUMNS = ['rgb_top1', 'rgb_b_top1', 'flow_top1', 'rgb_diff_top1', 'fused_top1', 'oracle_top1']
HEADERS = ['RGB top-1 (%)', '2nd RGB top-1 (%)', 'flow top-1 (%)', 'RGBDiff top-1 (%)', 'Σ (%)',
           'Φ (%)']


def main(argv=None):
    args = parse_args('Mutual (Modality) Learning (Tab. 7 / Tab. 8) on SSv2-format data '
                      'designed for it', argv)
    if '--seeds' not in (sys.argv if argv is None else argv):
        args.seeds = 1 if args.smoke else SEEDS   # the suite's default: 5 seeds
    suite = Suite('mml', args)
    design.generate_for_suite(suite)
    opts = design.config_options(MEMBERS, EPOCHS, LR)
    suite.extra['schedule'] = dict(epochs_per_stage=suite.epochs or EPOCHS, lr=LR,
                                   optimizer='AdamW')

    def run(row, seed, train_seed=None, extra=None, record_as=None):
        stem, name, keys = RUNS[row]
        s = seed if train_seed is None else train_seed
        m = suite.train(f'{CFG}/{stem}_sthv2.py', name, s, keys, options=dict(opts, **(
            extra or {})))
        wall = json.loads((suite.work_dir(name, s) / 'result.json').read_text())['wall_s']
        suite.record(record_as or row, seed, m, wall)

    def stage1(seed, name):   # a stage-1 checkpoint of this seed, as an absolute work dir
        return str(suite.work_dir(name, seed))

    for seed in suite.seeds:
        run('rgb', seed)
        # "RGB2": the same config in a separate run under another seed
        run('rgb', seed, train_seed=seed + RGB2_OFFSET, record_as='rgb2')
        rgb, rgb2 = stage1(seed, RUNS['rgb'][1]), stage1(seed + RGB2_OFFSET, RUNS['rgb'][1])
        run('ce', seed)
        run('flow_ce', seed)
        run('ml', seed, extra={'model.member_init.rgb_b.checkpoint': rgb2})
        run('mml', seed)
        run('mml3', seed)
        # negative control: MML from the same stage-1 network under other seeds
        run('mml', seed, train_seed=seed + 1000, record_as=NEG,
            extra={'model.member_init.rgb.checkpoint': rgb,
                   'model.member_init.flow.checkpoint': rgb})

    no_same_length = 'the paper has no same-length CE row; its CE number is one stage shorter'
    claim(suite, 'MML RGB > ML RGB (Tab. 7 rows 1 vs 5)', 'mml', 'ml', 'rgb_top1',
          paper=dict(ref='MML Tab. 7 rows 1 vs 5 (RGB from RGB)', a=60.82, b=60.54, diff=0.28))
    claim(suite, 'ML RGB > CE RGB of the same length (Fig. 1, §3.4)', 'ml', 'ce', 'rgb_top1',
          paper=dict(ref=f'MML Tab. 5 row 3 vs Tab. 1 RGB from ImageNet ({no_same_length})',
                     a=60.54, b=58.10, diff=2.44))
    claim(suite, 'MML RGB > CE RGB of the same length (Tab. 3)', 'mml', 'ce', 'rgb_top1',
          paper=dict(ref=f'MML Tab. 3 RGB from RGB / Flow from RGB vs Tab. 1 RGB from '
                     f'ImageNet ({no_same_length})', a=60.82, b=58.10, diff=2.72))
    claim(suite, 'MML flow > CE flow, both Flow from RGB (Tab. 4 vs Tab. 1)', 'mml', 'flow_ce',
          'flow_top1', paper=dict(ref='MML Tab. 4 (RGB from RGB, Flow from RGB) vs Tab. 1 '
                                  'Flow from RGB', a=57.95, b=55.19, diff=2.76))
    for mod, pa, pb in (('rgb', 61.03, 60.82), ('flow', 58.03, 57.95)):
        claim(suite, f'three-network MML {mod} not worse than two-network MML {mod} '
              f'(Tab. 8 rows 6 vs 2; margin {MARGIN:g})', 'mml3', 'mml', f'{mod}_top1',
              kind='noninferior', margin=MARGIN,
              paper=dict(ref='MML Tab. 8 rows 6 vs 2', a=pa, b=pb, diff=round(pa - pb, 2)))
    claim(suite, 'positive control: MML Σ > MML flow (planted: flow carries no hand shape)',
          'mml', 'mml', 'fused_top1', b_metric='flow_top1', control='positive')
    claim(suite, 'negative control: MML RGB vs MML RGB under seeds + 1000', 'mml', NEG,
          'rgb_top1', control='negative')

    figures = [plot_bars(suite.out / 'mml_rgb_top1.png', suite,
                         ['rgb', 'rgb2', 'ce', 'ml', 'mml', 'mml3', NEG], 'rgb_top1',
                         'MML (designed SSv2 data): RGB network', ylabel='RGB top-1 (%)')]
    table = suite.table(ROWS, COLUMNS, HEADERS)
    return suite.finish([('Tab. 7 / Tab. 8 layout (designed SSv2 data, 8 classes, chance 12.5; '
                          'top-1 %; – = not in the run)', table)], figures)


if __name__ == '__main__':
    main()
