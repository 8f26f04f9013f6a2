#!/usr/bin/env python
"""What distillation adds to a student's training step, per (student, teacher) pair.

For each pair, on the same batches and in one run (so the ratios do not depend on the machine):

* ``student step``: the student alone, forward + backward + optimizer step (``train_step``);
* ``teacher forward``: ``DistillRecognizer.teacher_logits`` (eval mode, ``torch.no_grad()``,
  the teacher's own data preprocessor);
* ``online distill step``: ``DistillRecognizer.train_step`` (teacher forward + student step +
  distillation loss);
* ``cached distill step``: the distill step with precomputed teacher logits (issue 9's teacher
  cache): see :func:`cached_distill_step`; printed as ``n/a (needs teacher cache)`` while
  ``DistillRecognizer`` has no ``teacher_cache`` option;

and the ratios ``distill / (student + teacher)`` (1.0: distillation costs exactly one teacher
forward on top of the student) and ``cached / student``. Each time is the median over
``--iters`` steps after ``--warmup`` steps, the three measurements interleaved batch by batch
(fair ratios on a shared machine); random teacher weights (the cost is the same).

Pairs (``--pair``, several allowed; default both):

* ``toy``: the toy KARMMA student/teacher of ``--config`` (default
  ``configs/karmma/toy/student_epic.py``) on batches of its train dataset (generate it once with
  ``python tools/data/generate_toy_dataset.py --datasets epic``; skipped when absent);
* ``r3d``: MMAction2 ``Recognizer3D`` R3D-18 student ← I3D-R50 teacher (both ``ResNet3d`` +
  ``I3DHead``, random init), random batch 4×3×8×112×112 (``--r3d-batch``, ``--r3d-clip``).

    python benchmarks/distill_overhead.py                    # both pairs, ~3 min on 2 CPU cores
    python benchmarks/distill_overhead.py --pair r3d --iters 20
"""
import argparse
import copy
import os.path as osp
import statistics
import time
from typing import Callable, Dict

import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from mmengine.registry import init_default_scope
from mmengine.structures import LabelData

from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample

# MMAction2 1.1 ships no R3D-18 config: this is torchvision's r3d_18 (Tran et al., CVPR 2018)
# written with MMAction2's ResNet3d: 3×7×7 stem with spatial stride 2 and no temporal stride,
# no max-pool, every BasicBlock inflated (3×3×3 convolutions), stride 2 in T, H and W in
# stages 2-4.
R3D18 = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=18, pretrained=None, pretrained2d=False,
                  in_channels=3, conv1_kernel=(3, 7, 7), conv1_stride_t=1, with_pool1=False,
                  inflate=(1, 1, 1, 1), spatial_strides=(1, 2, 2, 2),
                  temporal_strides=(1, 2, 2, 2), conv_cfg=dict(type='Conv3d'),
                  norm_eval=False, zero_init_residual=False),
    cls_head=dict(type='I3DHead', num_classes=174, in_channels=512, spatial_type='avg',
                  dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))
# MMAction2 1.1 configs/_base_/models/i3d_r50.py with random init (pretrained=None,
# pretrained2d=False) and the student's classes.
I3D_R50 = dict(
    type='Recognizer3D',
    backbone=dict(type='ResNet3d', depth=50, pretrained=None, pretrained2d=False,
                  conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                  conv_cfg=dict(type='Conv3d'), norm_eval=False,
                  inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)),
                  zero_init_residual=False),
    cls_head=dict(type='I3DHead', num_classes=174, in_channels=2048, spatial_type='avg',
                  dropout_ratio=0.5, init_std=0.01, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCTHW'))


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--pair', nargs='+', choices=('toy', 'r3d'), default=['toy', 'r3d'])
    p.add_argument('--config', default='configs/karmma/toy/student_epic.py',
                   help='the toy pair\'s distillation config')
    p.add_argument('--batch-size', type=int, default=None,
                   help='toy pair batch size (default: the config\'s)')
    p.add_argument('--r3d-batch', type=int, default=4)
    p.add_argument('--r3d-clip', nargs=3, type=int, default=(8, 112, 112), metavar=('T', 'H', 'W'))
    # Defaults keep the whole run near 3 minutes on a 2-core CPU (an R3D-18 step takes ~15 s
    # there); use more --iters on a quiet or faster machine.
    p.add_argument('--iters', type=int, default=3, help='timed steps per measurement (median)')
    p.add_argument('--warmup', type=int, default=1)
    return p.parse_args()


# --------------------------------------------------------------------------- timing
def timed(steps: Dict[str, Callable], batches, warmup: int) -> Dict[str, float]:
    """Median seconds of each ``steps[name](batch)`` over ``batches[warmup:]``.

    The steps are interleaved (for each batch: every step once, in order), so a change in the
    load of a shared machine hits all of them alike and the ratios stay fair; ``warmup``
    batches are run first and not timed.
    """
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    times = {name: [] for name in steps}
    for i, b in enumerate(batches):
        for name, step in steps.items():
            sync()
            t0 = time.perf_counter()
            step(b)
            sync()
            if i >= warmup:
                times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def with_cached_logits(batch: dict, teacher_logits: dict) -> dict:
    """``batch`` whose data samples carry ``teacher_logits`` (fp16-rounded, as a cache stores
    them), i.e. what ``TeacherCacheDataset`` delivers."""
    samples = []
    for i, ds in enumerate(batch['data_samples']):
        ds = ds.clone()
        ds.teacher_logits = LabelData(**{h: v[i].detach().cpu().half().float()
                                         for h, v in teacher_logits.items()})
        samples.append(ds)
    return dict(batch, data_samples=samples)


def cached_distill_step(distiller, batch: dict, optim) -> None:
    """One distillation step that reads the teacher's logits from the batch (``teacher_cache``
    mode of ``DistillRecognizer``: no teacher forward)."""
    saved = distiller.teacher_cache, distiller._cache_checked
    distiller.teacher_cache, distiller._cache_checked = 'benchmark', True
    try:
        distiller.train_step(copy.copy(batch), optim)
    finally:
        distiller.teacher_cache, distiller._cache_checked = saved


# ===========================================================================================


def run_pair(name: str, distiller, batches, warmup: int) -> dict:
    """Times (seconds, medians) of student step, teacher forward, online and cached distill
    steps of ``distiller`` on ``batches``; the student step uses a deep copy of the student
    (same initial weights, own optimizer)."""
    device = 'cuda' if torch.cuda.is_available() else 'cpu'
    distiller = distiller.to(device).train()
    student = copy.deepcopy(distiller.student).train()
    opt_d = OptimWrapper(torch.optim.AdamW(distiller.parameters(), lr=1e-4))
    opt_s = OptimWrapper(torch.optim.AdamW(student.parameters(), lr=1e-4))

    def student_step(batch):
        student.train_step(copy.copy(batch), opt_s)

    cached_batches = {}

    def teacher_forward(batch):
        data = distiller.data_preprocessor(copy.copy(batch), True)
        logits = distiller.teacher_logits(data['inputs'], data['data_samples'])
        cached_batches[id(batch)] = with_cached_logits(batch, logits)  # (not in the timing:
        # a cache's logits arrive with the batch from the dataloader workers)

    def distill_step(batch):
        distiller.train_step(copy.copy(batch), opt_d)

    def cached_step(batch):
        cached_distill_step(distiller, cached_batches[id(batch)], opt_d)

    out = dict(pair=name, device=device)
    out.update(timed(dict(student=student_step, teacher=teacher_forward,
                          distill=distill_step, cached=cached_step), batches, warmup))
    out['cached_note'] = None
    return out


# --------------------------------------------------------------------------- pairs
def toy_pair(args):
    """The toy KARMMA distiller and batches of its train dataset, or None without the data."""
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    if cfg.model.type != 'DistillRecognizer':
        raise SystemExit(f'{args.config}: give a distillation (student) config')
    ann = cfg.train_dataloader.dataset.get('ann_file', '')
    if ann and not osp.exists(ann):
        print(f'[toy] skipped: {ann} not found (python tools/data/generate_toy_dataset.py '
              f'--datasets epic)')
        return None
    cfg.model.teacher_ckpt = None  # random teacher weights: the cost is the same
    torch.manual_seed(0)
    distiller = MODELS.build(cfg.model)
    dataset = DATASETS.build(cfg.train_dataloader.dataset)
    bs = args.batch_size or cfg.train_dataloader.batch_size
    n = args.warmup + args.iters
    batches = [pseudo_collate([dataset[(i * bs + j) % len(dataset)] for j in range(bs)])
               for i in range(n)]
    return distiller, batches, f'toy KARMMA ({osp.basename(args.config)}), batch {bs}'


def r3d_batches(n: int, batch_size: int, clip, num_classes: int = 174, seed: int = 0):
    """``n`` collated random batches: ``batch_size`` clips ``[1, 3, T, H, W]`` in [0, 255]."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(n):
        inputs, samples = [], []
        for _ in range(batch_size):
            inputs.append(torch.rand((1, 3, *clip), generator=g) * 255)
            ds = ActionDataSample()
            ds.gt_labels = LabelData(item=torch.randint(0, num_classes, (1, ), generator=g))
            samples.append(ds)
        out.append(dict(inputs=inputs, data_samples=samples))
    return out


def r3d_pair(args):
    """R3D-18 student ← I3D-R50 teacher in our ``DistillRecognizer`` (KL, τ = 1)."""
    init_default_scope('mmaction')
    import mmdistill_plugin  # noqa: F401  (registers DistillRecognizer)
    torch.manual_seed(0)
    distiller = MODELS.build(dict(
        type='DistillRecognizer', student=copy.deepcopy(R3D18), teacher=copy.deepcopy(I3D_R50),
        teacher_ckpt=None,
        distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=1.0))))
    batches = r3d_batches(args.warmup + args.iters, args.r3d_batch, tuple(args.r3d_clip))
    t, h, w = args.r3d_clip
    return distiller, batches, f'R3D-18 <- I3D-R50, batch {args.r3d_batch}x3x{t}x{h}x{w}'


def report(r: dict) -> str:
    ms = lambda s: f'{1000 * s:9.1f} ms'  # noqa: E731
    lines = [f"pair: {r['label']}  device: {r['device']}  threads: {torch.get_num_threads()}  "
             f"median of {r['iters']} steps",
             f"  student step        : {ms(r['student'])}",
             f"  teacher forward     : {ms(r['teacher'])}",
             f"  online distill step : {ms(r['distill'])}",
             '  cached distill step : ' + (ms(r['cached']) if r['cached'] is not None
                                           else r['cached_note']),
             f"  distill / (student + teacher): {r['distill'] / (r['student'] + r['teacher']):.2f}",
             f"  distill / student            : {r['distill'] / r['student']:.2f}",
             '  cached / student             : ' + (
                 f"{r['cached'] / r['student']:.2f}" if r['cached'] is not None
                 else r['cached_note'])]
    return '\n'.join(lines)


def main():
    args = parse_args()
    builders = dict(toy=toy_pair, r3d=r3d_pair)
    for name in args.pair:
        built = builders[name](args)
        if built is None:
            continue
        distiller, batches, label = built
        r = run_pair(name, distiller, batches, args.warmup)
        r.update(label=label, iters=args.iters)
        print(report(r), flush=True)


if __name__ == '__main__':
    main()
