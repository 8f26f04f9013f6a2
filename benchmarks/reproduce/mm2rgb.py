"""Seeded reproduction of multimodal-teacher-rgb-student.txt Table 1 on the distillation
benchmark data, with the calibration controls.

Data: ``benchmarks/reproduce/designs/sthv2_distill.py`` (SSv2 + Something-Else format; RGB holds
the class at low contrast, flow only the direction of motion, boxes the direction and the hand's
side, each corrupted in its own videos: docs/benchmarks.md ``## Multimodal → RGB``), one dataset
(data seed 0) for every row and seed.

Rows (toy configs in configs/mm2rgb/toy/, the order of tools/mm2rgb_toy_demo.sh): the three
per-modality baselines (RGB, boxes = STLT, flow), the three teachers (LogitEnsembles of the
baselines of the same seed, evaluated with ``tools/test.py``, no training), the three RGB
students distilled from them (KL, τ = 10, + CE) and Omnivore (one RGB network trained on a
randomly sampled modality per video, 3× the schedule). Calibration: ``student (oracle teacher,
no CE)`` vs ``student (blind teacher, no CE)`` (the RGB student with its cross-entropy weight 0,
taught by ``controls.LabelTeacher``: logits 10 · one-hot label, or zeros) must come out *held*;
``student_rgb_flow_boxes (seeds +1000)`` (the all-modality student under other seeds, taught by
the paired seed's teacher) against ``student_rgb_flow_boxes`` must come out *inconclusive*.
Metric: top-1 / top-5 (%) on the validation split, one clip per video.

Claims of the paper (Table 1 and §3 "Discussion"), paired over seeds (top-1), with the paper's
Something-Something numbers (Something-Else where only it shows the claim):

* each RGB student beats the RGB baseline (Table 1, the red gains);
* the student of the richer teacher gains more: student rgb+flow+boxes > student rgb+boxes and
  > student rgb+flow (Table 1: 63.9 vs 62.1 / 62.3 on SSv2, 59.4 vs 57.2 / 57.6 on
  Something-Else);
* Omnivore is above the RGB baseline and below the student of the all-modality teacher ("the
  omnivorous model is superior to the baseline model, however, it is outperformed by the student
  taught by a multimodal teacher"); and below each student, which Table 1 shows on
  Something-Else (56.8 vs 57.2 / 57.6 / 59.4) but not on SSv2 (62.5 vs 62.1 / 62.3 / 63.9).

Toy deviation (all rows alike): the TimeSformer is replaced by a slim ResNet3d
(configs/_base_/datasets/toy_sthv2_mm2rgb.py says why).

Usage::

    python benchmarks/reproduce/mm2rgb.py                 # 5 seeds, work_dirs/reproduce/mm2rgb
    python benchmarks/reproduce/mm2rgb.py --smoke --out /tmp/mm2rgb_smoke
"""
import json
import os.path as osp
import sys
import time

sys.path.insert(0, osp.dirname(__file__))
from common import NEGATIVE_CONTROL_OFFSET, Suite, parse_args, plot_bars  # noqa: E402
from designs.sthv2_distill import suite_data  # noqa: E402

CFG = 'configs/mm2rgb/toy'
KEYS = ['top1', 'top5']
MODS = ['rgb', 'boxes', 'flow']
TEACHERS = ['rgb_boxes', 'rgb_flow', 'rgb_flow_boxes']
ROWS = (['baseline_rgb', 'baseline_boxes', 'baseline_flow']
        + [f'teacher_{t}' for t in TEACHERS] + [f'student_{t}' for t in TEACHERS]
        + ['omnivore'])
MODALITIES = dict(baseline_rgb='RGB', baseline_boxes='boxes (STLT)', baseline_flow='flow',
                  teacher_rgb_boxes='RGB + boxes', teacher_rgb_flow='RGB + flow',
                  teacher_rgb_flow_boxes='RGB + flow + boxes', student_rgb_boxes='RGB',
                  student_rgb_flow='RGB', student_rgb_flow_boxes='RGB', omnivore='RGB')
ORACLE, BLIND = 'student (oracle teacher, no CE)', 'student (blind teacher, no CE)'
NEGATIVE = f'student_rgb_flow_boxes (seeds +{NEGATIVE_CONTROL_OFFSET})'
CONTROL_ROWS = [ORACLE, BLIND, NEGATIVE, 'student_rgb_flow_boxes']
# --smoke: one row per kind of run (CE baselines: video and STLT boxes; a test-only logit
# ensemble of them; a student distilled from it; a student of a label teacher; Omnivore)
SMOKE_ROWS = ['baseline_rgb', 'baseline_boxes', 'teacher_rgb_boxes', 'student_rgb_boxes',
              ORACLE, 'omnivore']
# Table 1, top-1 %: (Something-Something, Something-Else)
PAPER = dict(baseline_rgb=(59.6, 51.7), student_rgb_boxes=(62.1, 57.2),
             student_rgb_flow=(62.3, 57.6), student_rgb_flow_boxes=(63.9, 59.4),
             omnivore=(62.5, 56.8))


def paper(a, b, dataset=0):
    """``paper=`` of a claim ``a > b``: Table 1's top-1 on SSv2 (0) or Something-Else (1)."""
    name = ('Something-Something', 'Something-Else')[dataset]
    return dict(ref=f'mm2rgb Tab. 1, {name}, top-1', a=PAPER[a][dataset], b=PAPER[b][dataset])


def label_teacher_options(mode):
    """The RGB student of the RGB + boxes teacher's config with a ``controls.LabelTeacher``
    (``mode`` 'oracle' / 'blind') and its own cross-entropy off."""
    return {'custom_imports': {'imports': ['mmdistill_plugin', 'benchmarks.reproduce.controls'],
                               'allow_failed_imports': False},
            'model': {'teacher': {'_delete_': True, 'type': 'LabelTeacher', 'num_classes': 6,
                                  'mode': mode},
                      'student': {'cls_head': {'loss_cls': {'type': 'CrossEntropyLoss',
                                                            'loss_weight': 0.0}}}}}


def test_metrics(suite, cfg_file, run, seed, keys):
    """Evaluate a test-only config (a LogitEnsemble teacher) with ``tools/test.py``.

    The teacher has no checkpoint of its own: its members load the baselines of ``seed`` from
    their work dirs; ``tools/test.py`` needs a checkpoint argument, so it gets the RGB baseline's
    (its keys are not ``members.*``: nothing is loaded into the ensemble, mmengine only warns).

    Returns:
        dict | None: ``keys`` → values (fractions) from mmengine's test JSON
        (``<work_dir>/<timestamp>/<timestamp>.json``), also written to ``result.json``;
        ``None`` in a ``--shared-queue`` worker when another worker tests it.
    """
    wd = suite.work_dir(run, seed)
    cfg_path = suite.config(cfg_file, run, seed)

    def produce():
        t0 = time.time()
        suite.run_cmd([sys.executable, 'tools/test.py', str(cfg_path),
                       suite.checkpoint('toy_baseline_rgb_sthv2', seed), '--work-dir', str(wd)],
                      wd / 'test.log')
        found = None
        for path in sorted(wd.glob('*/*.json')):
            entry = json.loads(path.read_text())
            if all(k in entry for k in keys):
                found = entry
        if found is None:
            raise RuntimeError(f'{wd}: no test JSON with {keys} (see {wd}/test.log)')
        return dict(config=cfg_file, seed=seed, wall_s=round(time.time() - t0, 1),
                    metrics={k: found[k] for k in keys})

    # its members are this seed's baselines, named in the config: a retrained one makes it stale
    res = suite.result_once(cfg_path, produce)
    if res is None:      # another --shared-queue worker tests it
        return None
    print(f'[{suite.name}] seed {seed} {run} (test only): '
          + ' '.join(f'{k}={v:.4f}' for k, v in res['metrics'].items()), flush=True)
    return res['metrics']


def main(argv=None):
    args = parse_args('Multimodal teacher -> RGB student (Table 1) on the distillation benchmark '
                      'data', argv)
    suite = Suite('mm2rgb', args, smoke_rows=SMOKE_ROWS)
    suite_data(suite)
    suite.parallel_train(__file__)
    for seed in suite.seeds:
        for m in MODS:
            suite.train(f'{CFG}/baseline_{m}_sthv2.py', f'toy_baseline_{m}_sthv2', seed, KEYS,
                        row=f'baseline_{m}')
        for t in [t for t in TEACHERS if suite.runs(f'teacher_{t}')]:
            # MMAction2 metrics are fractions in [0, 1], like the trained rows' scalars.json
            m = test_metrics(suite, f'{CFG}/teacher_{t}_sthv2.py', f'toy_teacher_{t}_sthv2',
                             seed, KEYS)
            if m is not None:
                suite.record(f'teacher_{t}', seed, m)
        for t in TEACHERS:
            suite.train(f'{CFG}/student_{t}_sthv2.py', f'toy_student_{t}_sthv2', seed, KEYS,
                        row=f'student_{t}')
        suite.train(f'{CFG}/omnivore_sthv2.py', 'toy_omnivore_sthv2', seed, KEYS,
                    row='omnivore')
        for row, mode in ((ORACLE, 'oracle'), (BLIND, 'blind')):
            suite.train(f'{CFG}/student_rgb_boxes_sthv2.py', f'toy_student_{mode}_teacher_sthv2',
                        seed, KEYS, row=row, options=label_teacher_options(mode))
        # negative control: the all-modality student under seed + offset, taught by the
        # ensemble of this seed's baselines
        members = {m: {'checkpoint': str(suite.work_dir(f'toy_baseline_{m}_sthv2', seed))}
                   for m in MODS}
        suite.train(f'{CFG}/student_rgb_flow_boxes_sthv2.py', 'toy_student_rgb_flow_boxes_sthv2',
                    seed, KEYS, row=NEGATIVE, seed_offset=NEGATIVE_CONTROL_OFFSET,
                    options={'model': {'teacher': {'members': members}}})
    if suite.only_training():
        return None

    for t in TEACHERS:
        suite.claim(f'student {t} > RGB baseline (top-1)', f'student_{t}', 'baseline_rgb',
                    'top1', paper=paper(f'student_{t}', 'baseline_rgb'))
    suite.claim('student rgb_flow_boxes > student rgb_boxes (richer teacher)',
                'student_rgb_flow_boxes', 'student_rgb_boxes', 'top1',
                paper=paper('student_rgb_flow_boxes', 'student_rgb_boxes'))
    suite.claim('student rgb_flow_boxes > student rgb_flow (richer teacher)',
                'student_rgb_flow_boxes', 'student_rgb_flow', 'top1',
                paper=paper('student_rgb_flow_boxes', 'student_rgb_flow'))
    suite.claim('Omnivore > RGB baseline (paper text)', 'omnivore', 'baseline_rgb', 'top1',
                paper=paper('omnivore', 'baseline_rgb'))
    suite.claim('student rgb_flow_boxes > Omnivore (paper text, both datasets)',
                'student_rgb_flow_boxes', 'omnivore', 'top1',
                paper=paper('student_rgb_flow_boxes', 'omnivore'))
    for t in ['rgb_boxes', 'rgb_flow']:
        suite.claim(f'student {t} > Omnivore (Table 1: Something-Else only)',
                    f'student_{t}', 'omnivore', 'top1',
                    paper=paper(f'student_{t}', 'omnivore', dataset=1))
    suite.claim('positive control: a student taught by a label oracle > one taught by a blind '
                'teacher (no CE)', ORACLE, BLIND, 'top1', control='positive')
    suite.claim(f'negative control: student rgb_flow_boxes vs itself under seeds '
                f'+{NEGATIVE_CONTROL_OFFSET}', NEGATIVE, 'student_rgb_flow_boxes', 'top1',
                control='negative')

    figures = [plot_bars(suite.out / 'mm2rgb_top1.png', suite, ROWS, 'top1',
                         'mm2rgb toy Table 1: top-1')]
    suite.extra['modalities'] = MODALITIES
    table = suite.table(ROWS, KEYS, ['top-1 (%)', 'top-5 (%)'])
    # modalities at inference, as in Table 1
    lines = table.split('\n')
    lines[0] = lines[0].replace('| row |', '| row | modalities at inference |')
    lines[1] = '|---|---' + lines[1][4:]
    for i, r in enumerate(ROWS):
        lines[i + 2] = lines[i + 2].replace(f'| {r} |', f'| {r} | {MODALITIES[r]} |', 1)
    controls = suite.table([r for r in CONTROL_ROWS if r in suite.results or not suite.smoke],
                           KEYS, ['top-1 (%)', 'top-5 (%)'])
    return suite.finish([('Table 1 (distillation benchmark data, top-1 / top-5 %)',
                          '\n'.join(lines)), ('Controls (top-1 / top-5 %)', controls)], figures)


if __name__ == '__main__':
    main()
