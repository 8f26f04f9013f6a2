#!/usr/bin/env python
"""Training-step time of a student with its frozen teacher vs the student alone.

Both are measured in this run, on the same batches, so the printed ratio does not depend on the
machine. The teacher runs in eval mode under ``torch.no_grad()``, so its cost is one forward
pass; the ratio shows what distillation adds to a student's step.

    python tools/data/generate_toy_dataset.py --datasets epic          # once, for the default
    python benchmarks/distill_overhead.py [--config configs/karmma/toy/student_epic.py]
"""
import argparse
import copy
import statistics
import time

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope

from mmaction.registry import DATASETS, MODELS


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--config', default='configs/karmma/toy/student_epic.py')
    p.add_argument('--batch-size', type=int, default=None, help='default: the config\'s')
    p.add_argument('--iters', type=int, default=10)
    p.add_argument('--warmup', type=int, default=3)
    return p.parse_args()


def timed_steps(step, batches, warmup):
    for b in batches[:warmup]:
        step(b)
    times = []
    for b in batches[warmup:]:
        t0 = time.perf_counter()
        step(b)
        if torch.cuda.is_available():
            torch.cuda.synchronize()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    assert cfg.model.type == 'DistillRecognizer', 'give a distillation (student) config'
    cfg.model.teacher_ckpt = None  # random teacher weights: the cost is the same
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    torch.manual_seed(0)
    distiller = MODELS.build(cfg.model).to(device).train()
    student = copy.deepcopy(distiller.student).train()

    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    bs = args.batch_size or cfg.train_dataloader.batch_size
    n = args.warmup + args.iters
    batches = [pseudo_collate([dataset[(i * bs + j) % len(dataset)] for j in range(bs)])
               for i in range(n)]

    opt_d = OptimWrapper(torch.optim.AdamW(distiller.parameters(), lr=1e-4))
    opt_s = OptimWrapper(torch.optim.AdamW(student.parameters(), lr=1e-4))

    def distill_step(batch):
        distiller.train_step(copy.copy(batch), opt_d)

    def student_step(batch):
        student.train_step(copy.copy(batch), opt_s)

    t_student = timed_steps(student_step, batches, args.warmup)
    t_distill = timed_steps(distill_step, batches, args.warmup)
    print(f'config: {args.config}  device: {device}  batch: {bs}  iters: {args.iters} '
          f'(median)')
    print(f'student alone        : {1000 * t_student:8.1f} ms/step')
    print(f'student + teacher    : {1000 * t_distill:8.1f} ms/step')
    print(f'ratio (distill/alone): {t_distill / t_student:8.2f}x')


if __name__ == '__main__':
    main()
