# Copyright (c) mmdistill contributors.
"""Train / val / test lists of the DMCL datasets (dmcl.txt §4.1) for MultimodalFrameListDataset.

    python tools/data/dmcl_lists.py {ntu120,ntu60,nwucla,uwa3dii} --data-root DATA_ROOT
        [--modalities rgb depth flow] [--glob rgb='img_*.jpg' depth='*.png' flow='x_*.jpg']
        [--val-fraction 0.05] [--seed 0] [--out-dir DATA_ROOT/lists] [--strict]

DATA_ROOT holds one frame folder per video and modality, ``DATA_ROOT/<modality>/<name>/`` (the
layout of ``configs/_base_/datasets/dmcl_frames.py``; ``<name>`` is the dataset's own video
name: ``S001C001P001R001A001`` (NTU RGB+D), ``view_1/a01_s01_e00`` (NW-UCLA, views are
folders), ``a01_s01_v01_e00`` (UWA3DII)). Every line written is MMAction2's rawframe form
``<name> <total_frames> <label>``, where ``total_frames`` is the smallest frame count among the
modalities (flow folders hold one frame fewer: a flow folder of n x-frames counts as n + 1), as
the DMCL authors' released code truncates every modality to the shortest one.

Protocols (every split the paper evaluates, all written in one run):

- ``ntu120``: cross-subject (Liu et al. 2019: the 53 training subjects of
  :data:`NTU_XSUB_TRAIN`), 120 classes ``A001``–``A120`` → 0–119:
  ``ntu120_xsub_{train,val,test}.txt``, and NTU120-mini, "three versions ... that contain 50 %
  sampled training data from the 120 classes" (``ntu120_xsub_mini{1,2,3}_train.txt``: as the
  authors' released code, ``⌊N_train / 2 / C⌋`` videos of every class drawn without
  replacement, one seed per version; val and test are the full set's).
- ``ntu60``: the same cross-subject split restricted to ``A001``–``A060`` (the released code
  builds NTU60 this way from NTU120; its 20 training subjects among P001–P040 are NTU60's own
  cross-subject ones): ``ntu60_xsub_{train,val,test}.txt``.
- ``nwucla``: cross-view, two views for training, the third for testing, every choice
  (``nwucla_v12_*`` trains on views 1 and 2 and tests on view 3, also ``v13``, ``v23``); the
  10 actions ``a01``–``a06``, ``a08``, ``a09``, ``a11``, ``a12`` → 0–9.
- ``uwa3dii``: cross-view, two views for training and the other two for testing, every choice
  (``uwa3dii_v12_*`` … ``uwa3dii_v34_*``); 30 actions ``a01``–``a30`` → 0–29.

Validation (``*_val.txt``): the paper does not say how checkpoints were chosen; the released
code holds out ``⌊N_train / C × 0.05⌋`` training videos of every class (``--val-fraction``) and
selects on them, testing once on the test split. Here the same, drawn with ``--seed``; the
training list keeps the rest. All draws are seeded and the lists sorted: the same data give the
same files.

A video that lacks a modality folder or has no frame is left out and named, with its reason, in
``OUT/<dataset>_skipped.txt`` (``--strict``: an error naming the first one). Writes are atomic.
"""
import argparse
import fnmatch
import os
import os.path as osp
import re
import sys
from collections import defaultdict
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

#: NTU RGB+D 120 cross-subject training subjects (Liu et al., TPAMI 2019, §4.1)
NTU_XSUB_TRAIN = (1, 2, 4, 5, 8, 9, 13, 14, 15, 16, 17, 18, 19, 25, 27, 28, 31, 34, 35, 38, 45,
                  46, 47, 49, 50, 52, 53, 54, 55, 56, 57, 58, 59, 70, 74, 78, 80, 81, 82, 83, 84,
                  85, 86, 89, 91, 92, 93, 94, 95, 97, 98, 100, 103)
#: NW-UCLA action ids (folder names ``aXX``) in label order
NWUCLA_ACTIONS = (1, 2, 3, 4, 5, 6, 8, 9, 11, 12)
NAME_RE = {
    'ntu': re.compile(r'^S(\d{3})C(\d{3})P(\d{3})R(\d{3})A(\d{3})$'),
    'nwucla': re.compile(r'^view_(\d)/a(\d{2})_s(\d{2})_e(\d{2})$'),
    'uwa3dii': re.compile(r'^a(\d{2})_s(\d{2})_v(\d{2})_e(\d{2})$'),
}
DEFAULT_GLOBS = dict(rgb='img_*.jpg', depth='*.png', flow='x_*.jpg')
DATASETS = ('ntu120', 'ntu60', 'nwucla', 'uwa3dii')


class Video:
    """One video: ``name``, ``label`` (0-based), ``split_key`` (subject or view)."""

    def __init__(self, name: str, label: int, split_key: int, frames: int = 0) -> None:
        self.name, self.label, self.split_key, self.frames = name, label, split_key, frames

    def line(self) -> str:
        return f'{self.name} {self.frames} {self.label}'


def parse_name(dataset: str, name: str) -> Optional[Video]:
    """``Video`` of a folder name (frames not counted yet), or None for a name of another form
    or an action outside the dataset (e.g. A061+ for ``ntu60``)."""
    if dataset in ('ntu120', 'ntu60'):
        m = NAME_RE['ntu'].match(name)
        if not m:
            return None
        action, subject = int(m.group(5)), int(m.group(3))
        if not 1 <= action <= (60 if dataset == 'ntu60' else 120):
            return None
        return Video(name, action - 1, subject)
    m = NAME_RE[dataset].match(name)
    if not m:
        return None
    if dataset == 'nwucla':
        view, action = int(m.group(1)), int(m.group(2))
        if action not in NWUCLA_ACTIONS:
            return None
        return Video(name, NWUCLA_ACTIONS.index(action), view)
    action, view = int(m.group(1)), int(m.group(3))
    if not 1 <= action <= 30:
        return None
    return Video(name, action - 1, view)


def video_names(dataset: str, root: str) -> List[str]:
    """Folder names under ``root`` in the dataset's form (NW-UCLA: ``view_<v>/<video>``)."""
    if not osp.isdir(root):
        raise FileNotFoundError(f'{dataset}: modality folder not found: {root}')
    names = sorted(d for d in os.listdir(root) if osp.isdir(osp.join(root, d)))
    if dataset == 'nwucla':
        names = sorted(f'{v}/{d}' for v in names if v.startswith('view_')
                       for d in os.listdir(osp.join(root, v)) if osp.isdir(osp.join(root, v, d)))
    return names


def count_frames(folder: str, pattern: str) -> int:
    """Files in ``folder`` whose name matches ``pattern`` (0 for a missing folder)."""
    if not osp.isdir(folder):
        return 0
    with os.scandir(folder) as it:
        return sum(1 for e in it if e.is_file() and fnmatch.fnmatch(e.name, pattern))


def collect(dataset: str, data_root: str, modalities: Sequence[str], globs: Dict[str, str]
            ) -> Tuple[List[Video], List[Tuple[str, str]]]:
    """Every video of ``dataset`` found under ``data_root/<modalities[0]>`` with its frame count
    (the minimum over ``modalities``), and the ``(name, reason)`` of those left out."""
    kept, skipped = [], []
    for name in video_names(dataset, osp.join(data_root, modalities[0])):
        video = parse_name(dataset, name)
        if video is None:
            continue
        counts = {}
        for m in modalities:
            n = count_frames(osp.join(data_root, m, name), globs[m])
            counts[m] = n + 1 if (m == 'flow' and n > 0) else n
        empty = [m for m, n in counts.items() if n == 0]
        if empty:
            skipped.append((name, 'no frames matching ' + ', '.join(
                f'{osp.join(data_root, m, name, globs[m])}' for m in empty)))
            continue
        video.frames = min(counts.values())
        kept.append(video)
    return kept, skipped


def per_class(videos: Iterable[Video]) -> Dict[int, List[Video]]:
    out = defaultdict(list)
    for v in videos:
        out[v.label].append(v)
    return out


def hold_out(train: List[Video], fraction: float, seed: int, num_classes: int
             ) -> Tuple[List[Video], List[Video]]:
    """``(train_rest, val)``: ``⌊len(train) / num_classes × fraction⌋`` videos of every class
    (all of a smaller class's but one) drawn without replacement, seeded by ``(seed, class)``."""
    n = int(len(train) / num_classes * fraction)
    if n == 0:
        return list(train), []
    val = []
    for label, vids in sorted(per_class(train).items()):
        k = min(n, len(vids) - 1)
        rng = np.random.default_rng([seed, label])
        val += [vids[i] for i in sorted(rng.choice(len(vids), k, replace=False))]
    names = {v.name for v in val}
    return [v for v in train if v.name not in names], val


def half_per_class(train: List[Video], version: int, num_classes: int) -> List[Video]:
    """NTU120-mini version ``version``: ``⌊len(train) / 2 / C⌋`` videos of every class (all of
    a smaller class), drawn without replacement, seeded by ``(version, class)``."""
    n = int(len(train) / 2 / num_classes)
    out = []
    for label, vids in sorted(per_class(train).items()):
        rng = np.random.default_rng([1000 + version, label])
        out += [vids[i] for i in sorted(rng.choice(len(vids), min(n, len(vids)),
                                                   replace=False))]
    return out


def splits(dataset: str, videos: List[Video], val_fraction: float, seed: int
           ) -> Dict[str, List[Video]]:
    """``file stem -> videos`` of every split of ``dataset`` (see the module docstring)."""
    out = {}
    if dataset in ('ntu120', 'ntu60'):
        classes = 60 if dataset == 'ntu60' else 120
        train = [v for v in videos if v.split_key in NTU_XSUB_TRAIN]
        test = [v for v in videos if v.split_key not in NTU_XSUB_TRAIN]
        train, val = hold_out(train, val_fraction, seed, classes)
        out.update({f'{dataset}_xsub_train': train, f'{dataset}_xsub_val': val,
                    f'{dataset}_xsub_test': test})
        if dataset == 'ntu120':
            for k in (1, 2, 3):
                out[f'ntu120_xsub_mini{k}_train'] = half_per_class(train, k, classes)
        return out
    views, classes = ((1, 2, 3), 10) if dataset == 'nwucla' else ((1, 2, 3, 4), 30)
    for i, a in enumerate(views):
        for b in views[i + 1:]:
            train = [v for v in videos if v.split_key in (a, b)]
            test = [v for v in videos if v.split_key not in (a, b)]
            train, val = hold_out(train, val_fraction, seed, classes)
            stem = f'{dataset}_v{a}{b}'
            out.update({f'{stem}_train': train, f'{stem}_val': val, f'{stem}_test': test})
    return out


def write_atomic(path: str, lines: List[str]) -> None:
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        f.write(''.join(f'{line}\n' for line in lines))
    os.replace(tmp, path)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('dataset', choices=DATASETS)
    p.add_argument('--data-root', required=True,
                   help='folder with <modality>/<video name>/ frame folders')
    p.add_argument('--modalities', nargs='+', default=['rgb', 'depth', 'flow'])
    p.add_argument('--glob', nargs='*', default=[], metavar='MODALITY=PATTERN',
                   help=f'frame file patterns (defaults {DEFAULT_GLOBS})')
    p.add_argument('--val-fraction', type=float, default=0.05,
                   help='validation videos per class as a fraction of N_train / C (0: none)')
    p.add_argument('--seed', type=int, default=0, help='seed of the validation draw')
    p.add_argument('--out-dir', help='default DATA_ROOT/lists')
    p.add_argument('--strict', action='store_true',
                   help='a video with a missing / empty modality folder is an error')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    globs = dict(DEFAULT_GLOBS)
    for item in args.glob:
        key, sep, pattern = item.partition('=')
        if not sep or key not in args.modalities:
            raise SystemExit(f'--glob {item!r}: expected MODALITY=PATTERN with MODALITY in '
                             f'{args.modalities}')
        globs[key] = pattern
    unknown = [m for m in args.modalities if m not in globs]
    if unknown:
        raise SystemExit(f'--modalities {unknown}: give their --glob MODALITY=PATTERN')
    if not 0.0 <= args.val_fraction < 1.0:
        raise SystemExit(f'--val-fraction must be in [0, 1), got {args.val_fraction}')
    videos, skipped = collect(args.dataset, args.data_root, args.modalities, globs)
    if skipped and args.strict:
        raise SystemExit(f'{args.dataset}: {skipped[0][0]}: {skipped[0][1]} '
                         f'({len(skipped)} such videos)')
    if not videos:
        raise SystemExit(f'{args.dataset}: no video folder of the dataset\'s naming under '
                         f'{osp.join(args.data_root, args.modalities[0])}')
    out_dir = args.out_dir or osp.join(args.data_root, 'lists')
    os.makedirs(out_dir, exist_ok=True)
    for stem, vids in splits(args.dataset, videos, args.val_fraction, args.seed).items():
        write_atomic(osp.join(out_dir, f'{stem}.txt'),
                     [v.line() for v in sorted(vids, key=lambda v: v.name)])
        print(f'{stem}.txt: {len(vids)} videos, {len({v.label for v in vids})} classes')
    if skipped:
        write_atomic(osp.join(out_dir, f'{args.dataset}_skipped.txt'),
                     [f'{name}\t{why}' for name, why in skipped])
        print(f'{len(skipped)} videos left out: {osp.join(out_dir, args.dataset)}_skipped.txt',
              file=sys.stderr)
    return 0


if __name__ == '__main__':
    sys.exit(main())
