"""Seeded reproduction of D3D (d3d.txt) on the distillation benchmark data: distillation, the
flow probe, the MSE-reduction ablation and the calibration controls.

Data: ``benchmarks/reproduce/designs/sthv2_distill.py`` (SSv2 + Something-Else format; RGB holds
the class at low contrast, flow only the direction of motion, boxes the direction and the hand's
side; docs/benchmarks.md ``## D3D``), one dataset (data seed 0) for every row and seed.

Rows (toy configs in configs/d3d/toy/):

* ``teacher_flow``: the flow ("temporal") stream, trained on flow;
* ``baseline_rgb``: the RGB ("spatial") stream trained on labels only (D3D's S3D-G);
* ``student``: the RGB stream trained on labels + the frozen flow teacher's logits (Eq. 1-2,
  LogitMSE, λ = 1, ``reduction='batchmean'``: Eq. 1's squared error summed over classes, averaged
  over the batch): D3D; at test time RGB only;
* ``student (MSE mean)``: the same with ``reduction='mean'`` (also averaged over the classes: a
  C × smaller distillation term), the ablation issue 15 asks for;
* flow-decoder probes (§3.1-3.2, Table 1), end-point error in pixels (lower is better) on the
  validation split: ``probe_frozen_baseline`` (frozen baseline, row "S3D-G"), ``probe_frozen``
  (frozen D3D student, row "D3D"), ``probe_finetune`` (baseline fine-tuned end to end with the
  decoder, row "S3D-G+FT", the lower bound);
* positive control: ``student (oracle teacher, no CE)`` vs ``student (blind teacher, no CE)``:
  the student's cross-entropy weight 0, the teacher ``controls.LabelTeacher`` (logits 10 · the
  one-hot label, or zeros): only the oracle can teach it the task;
* negative control: ``student (seeds +1000)``, the D3D student under other seeds, distilled from
  the teacher of the paired seed.

Claims, paired over seeds (the paper's numbers beside ours): the D3D student beats the RGB
baseline in top-1 (Table 2, Kinetics-400: D3D 75.9 vs S3D-G 74.0); the probe's EPE on the D3D
student is lower than on the baseline (Table 1: 1.76 vs 2.08, Fig. 3); fine-tuning end to end
gives a lower EPE than the frozen baseline (Table 1: 1.34 vs 2.08).

Toy deviation (every row alike): R(2+1)D / S3D-G is replaced by a slim ResNet3d, probed at its
layer2 (configs/_base_/datasets/toy_sthv2_mm2rgb.py says why).

Usage::

    python benchmarks/reproduce/d3d.py                    # 5 seeds, work_dirs/reproduce/d3d
    python benchmarks/reproduce/d3d.py --smoke --out /tmp/d3d_smoke
"""
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(__file__))
from common import NEGATIVE_CONTROL_OFFSET, Suite, fmt_pm, parse_args, plot_bars  # noqa: E402
from designs.sthv2_distill import suite_data  # noqa: E402

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
MEAN = 'student (MSE mean)'
ORACLE, BLIND = 'student (oracle teacher, no CE)', 'student (blind teacher, no CE)'
NEGATIVE = f'student (seeds +{NEGATIVE_CONTROL_OFFSET})'
CONTROL_ROWS = [ORACLE, BLIND, NEGATIVE, 'student']
# --smoke: one row per kind of run (CE on flow / RGB, distilled student, a student of a label
# teacher, frozen-backbone probe, fine-tuned probe)
SMOKE_ROWS = ['teacher_flow', 'baseline_rgb', 'student', ORACLE, 'probe_frozen_baseline',
              'probe_finetune']
# D3D Table 2 (Kinetics-400 top-1, the subset of Oct. 2018) and Table 1 (EPE, px)
PAPER = dict(top1=dict(ref='D3D Tab. 2, Kinetics-400: D3D vs S3D-G (RGB)', a=75.9, b=74.0),
             probe=dict(ref='D3D Tab. 1: EPE S3D-G (RGB) vs D3D', a=2.08, b=1.76),
             finetune=dict(ref='D3D Tab. 1: EPE S3D-G vs S3D-G+FT', a=2.08, b=1.34))


def label_teacher_options(mode):
    """The D3D student with a ``controls.LabelTeacher`` (``mode`` 'oracle' / 'blind') and its
    own cross-entropy off: what it learns, it learns from the teacher."""
    return {'custom_imports': {'imports': ['mmdistill_plugin', 'benchmarks.reproduce.controls'],
                               'allow_failed_imports': False},
            'model': {'teacher': {'_delete_': True, 'type': 'LabelTeacher', 'num_classes': 6,
                                  'mode': mode},
                      'teacher_ckpt': None,
                      'student': {'cls_head': {'loss_cls': {'type': 'CrossEntropyLoss',
                                                            'loss_weight': 0.0}}}}}


class D3DSuite(Suite):
    """Suite with an EPE table (pixels, a fraction of a pixel on the toy: 3 decimals; claims on
    EPE use ``scale=1.0``, which the claims table prints to 3 decimals)."""

    def epe_table(self, rows):
        lines = ['| row | EPE (px) |', '|---|---:|']
        lines += [f'| {r} | {fmt_pm(self.values(r, "EPE"), 1.0, 3) if r in self.results else "–"} |'
                  for r in rows]
        return '\n'.join(lines)


def main(argv=None):
    args = parse_args('D3D (distilled 3D networks) on the distillation benchmark data', argv)
    suite = D3DSuite('d3d', args, smoke_rows=SMOKE_ROWS)
    suite_data(suite)
    suite.parallel_train(__file__)
    student = f'{CFG}/student_sthv2.py'
    for seed in suite.seeds:
        # order matters: the student reads the teacher's work dir, the probes the RGB networks'
        for row in ACTION_ROWS:
            suite.train(f'{CFG}/{row}_sthv2.py', RUNS[row], seed, KEYS, row=row)
        suite.train(student, 'toy_d3d_student_mse_mean_sthv2', seed, KEYS, row=MEAN,
                    options={'model': {'distill_losses': {'loss_kd': {'reduction': 'mean'}}}})
        for row, mode in ((ORACLE, 'oracle'), (BLIND, 'blind')):
            suite.train(student, f'toy_d3d_student_{mode}_teacher_sthv2', seed, KEYS, row=row,
                        options=label_teacher_options(mode))
        teacher = {'model': {'teacher_ckpt': str(suite.work_dir(RUNS['teacher_flow'], seed))}}
        suite.train(student, RUNS['student'], seed, KEYS, row=NEGATIVE, options=teacher,
                    seed_offset=NEGATIVE_CONTROL_OFFSET)
        for row in PROBE_ROWS:
            suite.train(f'{CFG}/{row}_sthv2.py', RUNS[row], seed, ['EPE'], row=row)
    if suite.only_training():
        return None

    suite.claim('D3D student > RGB baseline (top-1)', 'student', 'baseline_rgb', 'top1',
                paper=PAPER['top1'])
    # EPE in pixels (scale 1): baseline − student > 0 means the student's features hold more flow
    suite.claim('probe EPE: frozen RGB baseline − frozen D3D student > 0 (px)',
                'probe_frozen_baseline', 'probe_frozen', 'EPE', scale=1.0, paper=PAPER['probe'])
    suite.claim('probe EPE: frozen RGB baseline − fine-tuned baseline > 0 (px)',
                'probe_frozen_baseline', 'probe_finetune', 'EPE', scale=1.0,
                paper=PAPER['finetune'])
    # not a claim of the paper: which reduction of Eq. 1 the toy student prefers
    suite.claim('ablation: student with Eq. 1 batchmean MSE > with mean MSE (top-1)', 'student',
                MEAN, 'top1')
    suite.claim('positive control: a student taught by a label oracle > one taught by a blind '
                'teacher (no CE)', ORACLE, BLIND, 'top1', control='positive')
    suite.claim(f'negative control: D3D student vs itself under seeds +{NEGATIVE_CONTROL_OFFSET}',
                NEGATIVE, 'student', 'top1', control='negative')

    figures = [
        plot_bars(suite.out / 'd3d_top1.png', suite, ACTION_ROWS + [MEAN], 'top1',
                  'D3D benchmark: top-1'),
        plot_bars(suite.out / 'd3d_probe_epe.png', suite, PROBE_ROWS, 'EPE',
                  'D3D toy flow probe: EPE (lower is better)', ylabel='EPE (px)', scale=1.0)]
    suite.extra['labels'] = LABELS
    tables = [('Action recognition (distillation benchmark data, top-1 / top-5 %)',
               suite.table(ACTION_ROWS, KEYS, ['top-1 (%)', 'top-5 (%)'])),
              ('Flow-decoder probe (D3D Table 1; end-point error, px, lower is better)',
               suite.epe_table(PROBE_ROWS)),
              ('MSE-reduction ablation and controls (top-1 / top-5 %)',
               suite.table([r for r in [MEAN] + CONTROL_ROWS if r in suite.results
                            or not suite.smoke], KEYS, ['top-1 (%)', 'top-5 (%)']))]
    return suite.finish(tables, figures)


if __name__ == '__main__':
    main()
