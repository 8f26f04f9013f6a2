#!/usr/bin/env python
"""Test several (config, checkpoint) pairs in-process and print a table like Table 1 of
multimodal-teacher-rgb-student.txt (Method | Modalities at inference | top-1 | top-5).

Example::

    python tools/analysis/results_table.py \
        --row 'Baseline' 'RGB frames' configs/mm2rgb/toy/baseline_rgb_sthv2.py \
              work_dirs/toy_baseline_rgb_sthv2 \
        --row 'Teacher' 'RGB frames & Optical flow' configs/mm2rgb/toy/teacher_rgb_flow_sthv2.py - \
        --row 'Student' 'RGB frames' configs/mm2rgb/toy/student_rgb_flow_sthv2.py \
              work_dirs/toy_student_rgb_flow_sthv2 \
        --reference Baseline

A checkpoint is a file, a work dir (its ``last_checkpoint``) or ``-`` for none (a
``LogitEnsemble`` teacher whose members load their own checkpoints). Rows whose ``Modalities``
are ``RGB frames`` show their gain over the ``--reference`` row (like the paper's red numbers).
Metrics are those of the config's test evaluator (``top1``/``top5`` of ``MultiHeadAccMetric``).
Progress: the runner's logger every ``--log-interval`` test iterations and one line per row;
``--launcher pytorch|slurm|mpi`` tests distributed (one process per GPU); rank 0 prints the
table and writes ``--out`` (its folder is created).
"""
import argparse
import json
import os
import os.path as osp

from analysis_runner import add_runner_args, parse_runner_args, test_config
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.runner import Runner


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--row', nargs=4, action='append', required=True,
                        metavar=('METHOD', 'MODALITIES', 'CONFIG', 'CHECKPOINT'))
    parser.add_argument('--reference', default=None,
                        help='METHOD of the row the RGB-only rows are compared with')
    parser.add_argument('--work-dir', default='work_dirs/results_table')
    parser.add_argument('--out', help='write the metrics as JSON here')
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def test_one(cfg_path, ckpt, work_dir, cfg_options=None, launcher='none', log_interval=10):
    """Metrics dict of ``Runner.test()`` for one config and checkpoint (``'-'``: none)."""
    cfg = test_config(cfg_path, ckpt, work_dir, cfg_options, launcher, log_interval)
    cfg.test_dataloader.persistent_workers = False
    return Runner.from_cfg(cfg).test()


def format_table(rows, metrics, reference=None):
    ref = metrics.get(reference) if reference else None
    header = ['Method', 'Modalities at inference', 'Top 1', 'Top 5']
    lines = []
    for method, mods, _, _ in rows:
        m = metrics[method]
        cells = []
        for key in ('top1', 'top5'):
            v = 100 * m[key]
            txt = f'{v:.1f}'
            if ref is not None and method != reference and mods.lower() == 'rgb frames':
                txt += f' ({v - 100 * ref[key]:+.1f})'
            cells.append(txt)
        lines.append([method, mods] + cells)
    widths = [max(len(r[i]) for r in lines + [header]) for i in range(4)]
    out = ['| ' + ' | '.join(h.ljust(w) for h, w in zip(header, widths)) + ' |',
           '|' + '|'.join('-' * (w + 2) for w in widths) + '|']
    out += ['| ' + ' | '.join(c.ljust(w) for c, w in zip(r, widths)) + ' |' for r in lines]
    return '\n'.join(out)


def main(argv=None):
    args = parse_args(argv)
    names = [r[0] for r in args.row]
    if len(set(names)) != len(names):
        raise SystemExit(f'--row METHOD names must be unique, got {names}')
    metrics = {}
    for i, (method, _, cfg_path, ckpt) in enumerate(args.row):
        print_log(f'results_table: row {i + 1}/{len(args.row)}: {method}', logger='current')
        metrics[method] = {k: float(v) for k, v in test_one(
            cfg_path, ckpt, osp.join(args.work_dir, f'row{i}'), args.cfg_options,
            args.launcher, args.log_interval).items()}
    if get_rank() != 0:
        return metrics
    print('\n' + format_table(args.row, metrics, args.reference))
    if args.out:
        if osp.dirname(args.out):
            os.makedirs(osp.dirname(args.out), exist_ok=True)
        with open(args.out, 'w') as f:
            json.dump(metrics, f, indent=2)
    return metrics


if __name__ == '__main__':
    from mmdistill_plugin.utils.compat import run_main
    run_main(main)  # --launcher: ends the process group, then the rank (compat fix 6)
