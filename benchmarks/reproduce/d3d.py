"""Seeded reproduction of D3D (d3d.txt) on the toy SSv2 data: distillation and the flow probe.

Rows (toy configs in configs/d3d/toy/):

* ``teacher_flow``: the flow ("temporal") stream, trained on flow;
* ``baseline_rgb``: the RGB ("spatial") stream trained on labels only (D3D's S3D-G);
* ``student``: the RGB stream trained on labels + the frozen flow teacher's logits (Eq. 1-2,
  LogitMSE, λ = 1): D3D; at test time RGB only;
* flow-decoder probes (§3.1-3.2, Table 1), end-point error in pixels (lower is better) on the
  validation split: ``probe_frozen_baseline`` (frozen baseline, row "S3D-G"), ``probe_frozen``
  (frozen D3D student, row "D3D"), ``probe_finetune`` (baseline fine-tuned end to end with the
  decoder, row "S3D-G+FT", the lower bound).

Claims, paired over seeds: the D3D student beats the RGB baseline in top-1 (Tables 2-3:
Kinetics; the paper has no SSv2 action number, but distillation is its point); the probe's EPE
on the D3D student is lower than on the baseline (Table 1: 1.76 vs 2.08, Fig. 3); fine-tuning
end to end gives a lower EPE than the frozen baseline (Table 1: 1.34 vs 2.08).

Toy deviation (every row alike): R(2+1)D / S3D-G is replaced by a slim ResNet3d, probed at its
layer2 (configs/_base_/datasets/toy_sthv2_mm2rgb.py says why).

Usage::

    python benchmarks/reproduce/d3d.py                    # 3 seeds, work_dirs/reproduce/d3d
    python benchmarks/reproduce/d3d.py --smoke --out /tmp/d3d_smoke
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import Suite, fmt_pm, parse_args, plot_bars  # noqa: E402

CFG = 'configs/d3d/toy'
KEYS = ['top1', 'top5']
ACTION_ROWS = ['teacher_flow', 'baseline_rgb', 'student']
PROBE_ROWS = ['probe_frozen_baseline', 'probe_frozen', 'probe_finetune']
RUNS = dict(teacher_flow='toy_d3d_teacher_flow_sthv2', baseline_rgb='toy_d3d_baseline_rgb_sthv2',
            student='toy_d3d_student_sthv2',
            probe_frozen_baseline='toy_d3d_probe_frozen_baseline_sthv2',
            probe_frozen='toy_d3d_probe_frozen_sthv2',
            probe_finetune='toy_d3d_probe_finetune_sthv2')
LABELS = dict(teacher_flow='flow teacher (flow)', baseline_rgb='RGB baseline (RGB, "S3D-G")',
              student='D3D student (RGB)',
              probe_frozen_baseline='probe on frozen RGB baseline ("S3D-G")',
              probe_frozen='probe on frozen D3D student ("D3D")',
              probe_finetune='probe + RGB baseline fine-tuned ("S3D-G+FT")')
# --smoke: one row per kind of run (CE on flow / RGB, distilled student, frozen-backbone probe,
# fine-tuned probe)
SMOKE_ROWS = ['teacher_flow', 'baseline_rgb', 'student', 'probe_frozen_baseline',
              'probe_finetune']


class D3DSuite(Suite):
    """Suite with an EPE table (pixels, a fraction of a pixel on the toy: 3 decimals; claims on
    EPE use ``scale=1.0``, which the claims table prints to 3 decimals)."""

    def epe_table(self, rows):
        lines = ['| row | EPE (px) |', '|---|---:|']
        lines += [f'| {r} | {fmt_pm(self.values(r, "EPE"), 1.0, 3) if r in self.results else "–"} |'
                  for r in rows]
        return '\n'.join(lines)


def main(argv=None):
    args = parse_args('D3D (distilled 3D networks) on the toy SSv2 data', argv)
    suite = D3DSuite('d3d', args, smoke_rows=SMOKE_ROWS)
    suite.generate_data(('sthv2', ))
    for seed in suite.seeds:
        # order matters: the student reads the teacher's work dir, the probes the RGB networks'
        for row in ACTION_ROWS:
            suite.train(f'{CFG}/{row}_sthv2.py', RUNS[row], seed, KEYS, row=row)
        for row in PROBE_ROWS:
            suite.train(f'{CFG}/{row}_sthv2.py', RUNS[row], seed, ['EPE'], row=row)

    suite.claim('D3D student > RGB baseline (top-1)', 'student', 'baseline_rgb', 'top1')
    # EPE in pixels (scale 1): baseline − student > 0 means the student's features hold more flow
    suite.claim('probe EPE: frozen RGB baseline − frozen D3D student > 0 (px)',
                'probe_frozen_baseline', 'probe_frozen', 'EPE', scale=1.0)
    suite.claim('probe EPE: frozen RGB baseline − fine-tuned baseline > 0 (px)',
                'probe_frozen_baseline', 'probe_finetune', 'EPE', scale=1.0)

    figures = [
        plot_bars(suite.out / 'd3d_top1.png', suite, ACTION_ROWS, 'top1', 'D3D toy: top-1'),
        plot_bars(suite.out / 'd3d_probe_epe.png', suite, PROBE_ROWS, 'EPE',
                  'D3D toy flow probe: EPE (lower is better)', ylabel='EPE (px)', scale=1.0)]
    suite.extra['labels'] = LABELS
    tables = [('Action recognition (toy SSv2, top-1 / top-5 %)',
               suite.table(ACTION_ROWS, KEYS, ['top-1 (%)', 'top-5 (%)'])),
              ('Flow-decoder probe (D3D Table 1; end-point error, px, lower is better)',
               suite.epe_table(PROBE_ROWS))]
    return suite.finish(tables, figures)


if __name__ == '__main__':
    main()
