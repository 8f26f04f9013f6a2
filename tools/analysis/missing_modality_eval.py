#!/usr/bin/env python
"""Test models with every combination of modalities (KARMMA Tab. 1) or a missing probability
sweep (KARMMA Fig. 4), and print the results as a table.

Examples::

    # Tab. 1 layout: all modalities, then every subset
    python tools/analysis/missing_modality_eval.py \
        --model Baseline configs/karmma/toy/baseline_epic.py work_dirs/toy_baseline_epic \
        --model KARMMA_S configs/karmma/toy/student_epic.py work_dirs/toy_student_epic

    # Fig. 4: each modality of each sample missing with probability p (seeded)
    python tools/analysis/missing_modality_eval.py --model KARMMA_S CFG CKPT \
        --missing-probs 0 0.1 0.3 0.5 0.7 0.9 --plot missing.png

    # distributed (as tools/dist_test.sh): one process per GPU
    python -m torch.distributed.launch --nproc_per_node=8 \
        tools/analysis/missing_modality_eval.py --launcher pytorch --model ...

A checkpoint may be a file or a work dir (its ``last_checkpoint`` is used). Progress: the
runner's logger reports every ``--log-interval`` test iterations and a line announces each
(model, modalities) run; the table, ``--out`` and ``--plot`` are written by rank 0 (their
folders are created). The modalities
hidden from a model go to ``test_cfg.drop_modalities`` of the recognizer that is tested (the
student of a ``DistillRecognizer``), the probability sweep inserts ``MissingModalities(p,
seed)`` before ``PackMultimodalInputs`` in the test pipeline; the teacher is never used.
"""
import argparse
import itertools
import json
import os
import os.path as osp

from analysis_runner import add_runner_args, parse_runner_args, test_config
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.runner import Runner

LETTERS = dict(rgb='V', flow='F', audio='A', boxes='D', depth='Z', rgb_diff='R')


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', nargs=3, action='append', required=True,
                        metavar=('NAME', 'CONFIG', 'CHECKPOINT'), help='a model to test')
    parser.add_argument('--metric', default=None,
                        help='metric to tabulate (default: action_top1, else top1)')
    parser.add_argument('--missing-probs', nargs='+', type=float, default=None,
                        help='probability sweep instead of modality combinations')
    parser.add_argument('--seed', type=int, default=0, help='seed of MissingModalities')
    parser.add_argument('--out', help='write all metrics as JSON here')
    parser.add_argument('--plot', help='with --missing-probs: save a plot here (PNG)')
    parser.add_argument('--work-dir', default='work_dirs/missing_modality_eval')
    add_runner_args(parser)
    return parse_runner_args(parser, argv)


def combinations(modalities):
    """Non-empty subsets, largest first, in the model's modality order (Tab. 1 order)."""
    out = []
    for size in range(len(modalities), 0, -1):
        out.extend(itertools.combinations(modalities, size))
    return out


def label(combo):
    return '+'.join(LETTERS.get(m, m) for m in combo)


def tested_recognizer(runner):
    model = runner.model.module if is_model_wrapper(runner.model) else runner.model
    return getattr(model, 'student', model)


def build_runner(cfg_path, ckpt, work_dir, cfg_options, missing_p=None, seed=0,
                 launcher='none', log_interval=10):
    cfg = test_config(cfg_path, ckpt, work_dir, cfg_options, launcher, log_interval)
    if missing_p is not None:
        pipeline = cfg.test_dataloader.dataset.pipeline
        idx = next(i for i, t in enumerate(pipeline) if t['type'] == 'PackMultimodalInputs')
        pipeline.insert(idx, dict(type='MissingModalities', p=missing_p, seed=seed))
    return Runner.from_cfg(cfg)


def pick_metric(metrics, wanted):
    if wanted:
        return metrics[wanted]
    for key in ('action_top1', 'top1'):
        if key in metrics:
            return metrics[key]
    return next(iter(metrics.values()))


def print_table(title, row_names, columns):
    names = list(columns)
    width = max(len(r) for r in row_names + [title]) + 2
    print('\n' + title.ljust(width) + ''.join(f'{n:>14}' for n in names))
    for i, r in enumerate(row_names):
        print(r.ljust(width) + ''.join(f'{100 * columns[n][i]:>14.2f}' for n in names))


def write_outputs(args, results, columns):
    """Rank 0: ``--out`` (JSON) and ``--plot`` (PNG), creating their folders."""
    for path in (args.out, args.plot):
        if path and osp.dirname(path):
            os.makedirs(osp.dirname(path), exist_ok=True)
    if args.plot and args.missing_probs is not None:
        import matplotlib
        matplotlib.use('Agg')
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(5, 3.5))
        for name in columns:
            ax.plot(args.missing_probs, [100 * v for v in columns[name]], 'o-', label=name)
        ax.set_xlabel('probability of a missing modality')
        ax.set_ylabel(args.metric or 'accuracy (%)')
        ax.legend()
        fig.tight_layout()
        fig.savefig(args.plot, dpi=120)
        print(f'plot saved to {args.plot}')
    if args.out:
        with open(args.out, 'w') as f:
            json.dump(results, f, indent=2)


def main(argv=None):
    args = parse_args(argv)
    results, columns = {}, {}
    run_kw = dict(launcher=args.launcher, log_interval=args.log_interval)
    if args.missing_probs is None:
        rows = None
        for name, cfg_path, ckpt in args.model:
            runner = build_runner(cfg_path, ckpt, osp.join(args.work_dir, name),
                                  args.cfg_options, **run_kw)
            model = tested_recognizer(runner)
            modalities = tuple(model.modalities)
            combos = combinations(modalities)
            rows = rows or [label(c) for c in combos]
            results[name], columns[name] = {}, []
            base_drop = list(model.test_cfg.get('drop_modalities', []))
            for i, combo in enumerate(combos):
                print_log(f'[{name}] modalities {label(combo)} ({i + 1}/{len(combos)})',
                          logger='current')
                model.test_cfg['drop_modalities'] = base_drop + [
                    m for m in modalities if m not in combo]
                metrics = runner.test()
                results[name][label(combo)] = metrics
                columns[name].append(pick_metric(metrics, args.metric))
        if get_rank() == 0:
            print_table('Inference modalities', rows, columns)
    else:
        rows = [f'p={p:g}' for p in args.missing_probs]
        for name, cfg_path, ckpt in args.model:
            results[name], columns[name] = {}, []
            for i, p in enumerate(args.missing_probs):
                runner = build_runner(cfg_path, ckpt, osp.join(args.work_dir, name),
                                      args.cfg_options, missing_p=p, seed=args.seed, **run_kw)
                print_log(f'[{name}] missing probability {p:g} '
                          f'({i + 1}/{len(args.missing_probs)})', logger='current')
                metrics = runner.test()
                results[name][f'{p:g}'] = metrics
                columns[name].append(pick_metric(metrics, args.metric))
        if get_rank() == 0:
            print_table('Missing probability', rows, columns)
    if get_rank() == 0:
        write_outputs(args, results, columns)
    return results


if __name__ == '__main__':
    from mmdistill_plugin.utils.compat import run_main
    run_main(main)  # --launcher: ends the process group, then the rank (compat fix 6)
