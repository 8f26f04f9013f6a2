"""Seeded reproduction of mutual-modality-learning.txt (MML, Fig. 1 pipeline / Tab. 7) on the toy
SSv2 data.

Rows (toy configs in configs/mml/toy/, the order of tools/mml_toy_demo.sh; each stage starts
from the previous stage's checkpoint of the same seed, as in the paper's Fig. 1):

* ``independent_rgb`` (stage 1, ``rgb_sthv2.py``): two RGB networks trained with CE alone;
* ``independent_flow`` (``flow_sthv2.py``): a flow network initialised from the stage-1 RGB
  network (first conv inflated), CE alone;
* ``ml`` (stage 2, ``ml_sthv2.py``): Mutual Learning of two RGB networks, both from stage 1
  (paper Eq. 1–2);
* ``mml`` (stage 3, ``mml_sthv2.py``): Mutual Modality Learning of RGB and flow, both from the
  stage-2 RGB network.

Metric: the RGB network's top-1 (``rgb_top1`` of ``MultiModalityMetric``; the paper's claims are
about the RGB model), plus the second network's top-1, Σ and Φ where two networks are trained
together; final validation, 216 toy validation videos at ``full`` scale, one clip per video.

Claims (paired over seeds, RGB top-1):

* MML > ML (Tab. 7 rows 7 vs 6 / 1 vs 5: 61.30 vs 60.88, 60.82 vs 60.54);
* ML > independent (§3.4 / Fig. 1: the ML step improves the RGB model);
* (also measured) MML flow > independent flow.

Toy deviation (every network of every row alike): TSM-R50 is replaced by a slim ResNet3d, one
AdamW schedule for every stage (configs/_base_/datasets/toy_sthv2_dmcl.py says why). As in the
paper's pipeline, each later stage also trains longer in total (it starts from the previous
stage's weights), so "ML > independent" mixes the mutual-learning gain with extra epochs.

Usage::

    python benchmarks/reproduce/mml.py                 # 3 seeds, work_dirs/reproduce/mml
    python benchmarks/reproduce/mml.py --smoke --out /tmp/mml_smoke
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import Suite, parse_args, plot_bars  # noqa: E402

CFG = 'configs/mml/toy'
ROWS = ['independent_rgb', 'independent_flow', 'ml', 'mml']
# row -> (config / work-dir stem, metric keys of that run); order matters: each stage reads
# the previous stage's work dir of the same seed
STAGES = dict(independent_rgb=('rgb', ['rgb_top1', 'rgb_b_top1', 'fused_top1']),
              independent_flow=('flow', ['flow_top1']),
              ml=('ml', ['rgb_top1', 'rgb_b_top1', 'fused_top1', 'oracle_top1']),
              mml=('mml', ['rgb_top1', 'flow_top1', 'fused_top1', 'oracle_top1']))
COLUMNS = ['rgb_top1', 'rgb_b_top1', 'flow_top1', 'fused_top1', 'oracle_top1']
# --smoke trains every stage: each starts from the previous one's checkpoint
SMOKE_ROWS = ROWS
HEADERS = ['RGB top-1 (%)', '2nd RGB top-1 (%)', 'flow top-1 (%)', 'Σ (%)', 'Φ (%)']


def main(argv=None):
    args = parse_args('Mutual (Modality) Learning (Tab. 7) on the toy SSv2 data', argv)
    suite = Suite('mml', args, smoke_rows=SMOKE_ROWS)
    suite.generate_data(('sthv2', ))
    for seed in suite.seeds:
        for r in ROWS:
            stem, keys = STAGES[r]
            suite.train(f'{CFG}/{stem}_sthv2.py', f'toy_mml_{stem}_sthv2', seed, keys, row=r)

    suite.claim('MML RGB > ML RGB (Tab. 7)', 'mml', 'ml', 'rgb_top1')
    suite.claim('ML RGB > independent RGB (Fig. 1, §3.4)', 'ml', 'independent_rgb', 'rgb_top1')
    suite.claim('MML flow > independent flow', 'mml', 'independent_flow', 'flow_top1')

    rgb_rows = ['independent_rgb', 'ml', 'mml']
    figures = [plot_bars(suite.out / 'mml_rgb_top1.png', suite, rgb_rows, 'rgb_top1',
                         'MML toy: RGB network', ylabel='RGB top-1 (%)')]
    table = suite.table(ROWS, COLUMNS, HEADERS)
    return suite.finish([('Tab. 7 layout (toy SSv2, top-1 %; chance 16.7; – = not in the run)',
                          table)], figures)


if __name__ == '__main__':
    main()
