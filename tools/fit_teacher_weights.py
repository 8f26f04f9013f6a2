#!/usr/bin/env python
# Copyright (c) mmdistill contributors.
"""Fit the ``'dataset'`` weights of a ``LogitEnsemble`` teacher on held-out data.

    python tools/fit_teacher_weights.py CONFIG [--split val] [--ann-file HELD_OUT_LIST]
        [--temperature 1.0] [--out FILE] [--batch-size N] [--num-workers N] [--device cpu]
        [--cfg-options ...]

CONFIG is a ``LogitEnsemble`` config (e.g. ``configs/mm2rgb/teacher_rgb_flow_sthv2.py``: its
val set loads every modality the members read) or a ``DistillRecognizer`` config with a
``LogitEnsemble`` teacher (its ``--split`` set must then load the teacher's modalities, e.g.
``--split train`` with ``--ann-file`` naming held-out training videos). Every member runs over
the set; its mean cross-entropy on the labels, per head, gives ``w_m = softmin_m(mean CE_m /
T_w)`` (the reference implementation's "full-dataset" weighting; it uses training videos the
RGB teacher did not see). The JSON written (``weights``, ``mean_ce``, ``samples``,
``temperature``) is read by the student's teacher with::

    --cfg-options model.teacher.weighting=dataset model.teacher.weights=FILE

Held-out data: weights fitted on the split used to select the student's checkpoints make that
selection slightly optimistic; prefer videos held out of training.
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys

import torch
from mmengine.config import Config, DictAction

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))  # run from a checkout


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('config')
    p.add_argument('--split', choices=['train', 'val', 'test'], default='val',
                   help='the config dataloader whose dataset is used (default val)')
    p.add_argument('--ann-file', help='replace that dataset\'s annotation file (held-out list)')
    p.add_argument('--temperature', type=float, default=None,
                   help='T_w of the softmin (default: the teacher\'s weights_temperature)')
    p.add_argument('--out', help='JSON file (default work_dirs/<config>_teacher_weights.json)')
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--num-workers', type=int, default=0)
    p.add_argument('--device', default=None, help='default: cuda if available, else cpu')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None)
    return p.parse_args(argv)


def teacher_config(model_cfg: dict) -> dict:
    """The ``LogitEnsemble`` config of a teacher or of a distiller's teacher.

    Raises:
        ValueError: neither is a ``LogitEnsemble``.
    """
    if model_cfg.get('type') == 'LogitEnsemble':
        return model_cfg
    teacher = model_cfg.get('teacher') or {}
    if model_cfg.get('type') == 'DistillRecognizer' and teacher.get('type') == 'LogitEnsemble':
        return teacher
    raise ValueError(f'model.type {model_cfg.get("type")!r} (teacher '
                     f'{teacher.get("type")!r}): fit_teacher_weights needs a LogitEnsemble or a '
                     'DistillRecognizer whose teacher is one')


def main(argv=None) -> int:
    args = parse_args(argv)
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from torch.utils.data import DataLoader

    import mmdistill_plugin  # noqa: F401
    from mmaction.registry import DATASETS, MODELS

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    tcfg = dict(copy.deepcopy(teacher_config(cfg.model.to_dict())), weighting='mean')
    tcfg.pop('weights', None)
    device = torch.device(args.device or ('cuda' if torch.cuda.is_available() else 'cpu'))
    teacher = MODELS.build(tcfg).to(device)
    dcfg = copy.deepcopy(cfg[f'{args.split}_dataloader'].dataset)
    if args.ann_file:
        dcfg['ann_file'] = args.ann_file
    dataset = DATASETS.build(dcfg)
    loader = DataLoader(dataset, batch_size=args.batch_size, num_workers=args.num_workers,
                        collate_fn=pseudo_collate, shuffle=False)
    result = teacher.fit_dataset_weights(loader, args.temperature)
    result.update(config=osp.abspath(args.config), split=args.split,
                  ann_file=dcfg.get('ann_file'))
    out = args.out or osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0] +
                               '_teacher_weights.json')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, out)
    for head, w in result['weights'].items():
        ce = result['mean_ce'][head]
        print(f'{head}: ' + ', '.join(f'{n} w={w[n]:.4f} (mean CE {ce[n]:.4f})' for n in w))
    print(f'{result["samples"]} samples; written {out}\nuse: --cfg-options '
          f'model.teacher.weighting=dataset model.teacher.weights={out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
