# Copyright (c) mmdistill contributors.
"""Charades CSV → multi-label frame list (``<id> <total_frames> <label1> <label2> ...``).

Reads the official ``Charades_v1_train.csv`` / ``Charades_v1_test.csv`` (columns ``id``, ...,
``actions`` = ``"c092 11.90 21.20;c147 0.00 12.60"``, ``length``) and counts the frames of
every video's extracted RGB folder ``<frames-root>/<id>/`` (files matching ``--frame-glob``,
default ``img_*.jpg``: frames extracted as MMAction2's rawframes, which
``MultimodalFrameListDataset`` reads with ``filename_tmpls=dict(rgb='img_{:05d}.jpg')``).
Class ``cNNN`` becomes index ``NNN`` (0..156); each video's distinct classes are written sorted.
Videos without actions have no labels: they are skipped (the count is printed) unless
``--keep-unlabeled`` (test lists only, if wanted: such a line is negative for every class).

    python tools/data/charades_to_list.py data/charades/Charades_v1_train.csv \\
        data/charades/rawframes data/charades/charades_train_list.txt

Toy (``--toy-from-sthv2 data/toy/sthv2``): writes ``annotations/charades_{train,val}.txt`` of
the toy SSv2 data (``tools/data/generate_toy_dataset.py``) as a multi-label list for the CPU
configs ``configs/mml/toy/charades_*.py``: every video keeps its class ``c``; videos with an
even id also get class ``(c + 1) % 6`` (a deterministic second label, no visual meaning).
"""
import argparse
import csv
import glob
import json
import os.path as osp
import re
import sys

NUM_CLASSES = 157
_ACTION = re.compile(r'^c(\d{3})$')


def parse_actions(actions: str, where: str):
    """``"c092 11.90 21.20;c147 0.00 12.60"`` → ``[92, 147]`` (sorted, distinct).

    Raises:
        ValueError: an entry that is not ``cNNN start end`` or a class ≥ 157 (names ``where``).
    """
    labels = set()
    for entry in filter(None, (e.strip() for e in (actions or '').split(';'))):
        parts = entry.split()
        m = _ACTION.match(parts[0]) if len(parts) == 3 else None
        if m is None or int(m.group(1)) >= NUM_CLASSES:
            raise ValueError(f'{where}: bad action {entry!r} (expected "cNNN start end", '
                             f'NNN < {NUM_CLASSES})')
        labels.add(int(m.group(1)))
    return sorted(labels)


def count_frames(frames_root: str, vid: str, frame_glob: str) -> int:
    return len(glob.glob(osp.join(frames_root, vid, frame_glob)))


def convert(csv_file, frames_root, out_file, frame_glob='img_*.jpg', keep_unlabeled=False):
    """Write the list; returns ``dict(written=, skipped_unlabeled=)``.

    Raises:
        FileNotFoundError: the CSV is missing.
        ValueError: the CSV lacks ``id`` / ``actions``, a bad action (file and line), or videos
            whose frame folder is missing or empty (names up to 5 of them).
    """
    if not osp.exists(csv_file):
        raise FileNotFoundError(f'Charades CSV not found: {csv_file}')
    lines, skipped, missing = [], 0, []
    with open(csv_file, newline='') as f:
        reader = csv.DictReader(f)
        if not {'id', 'actions'} <= set(reader.fieldnames or ()):
            raise ValueError(f'{csv_file}: needs columns "id" and "actions", has '
                             f'{reader.fieldnames}')
        for row in reader:
            where = f'{csv_file}:{reader.line_num}'
            labels = parse_actions(row['actions'], where)
            if not labels and not keep_unlabeled:
                skipped += 1
                continue
            total = count_frames(frames_root, row['id'], frame_glob)
            if total == 0:
                missing.append(row['id'])
                continue
            lines.append(' '.join([row['id'], str(total), *map(str, labels)]))
    if missing:
        raise ValueError(f'{len(missing)} videos of {csv_file} have no frames '
                         f'{osp.join(frames_root, "<id>", frame_glob)}: {missing[:5]}')
    with open(out_file, 'w') as f:
        f.write(''.join(line + '\n' for line in lines))
    print(f'{out_file}: {len(lines)} videos; skipped {skipped} without actions')
    return dict(written=len(lines), skipped_unlabeled=skipped)


def toy_from_sthv2(root):
    """Toy multi-label lists from the toy SSv2 data (see the module docstring)."""
    ann = osp.join(root, 'annotations')
    with open(osp.join(ann, 'labels.json')) as f:
        classes = {k: int(v) for k, v in json.load(f).items()}
    num = len(classes)
    for split, out in (('train', 'charades_train.txt'), ('validation', 'charades_val.txt')):
        with open(osp.join(ann, f'{split}.json')) as f:
            entries = json.load(f)
        lines = []
        for e in entries:
            c = classes[e['template'].replace('[', '').replace(']', '')]
            labels = [c] if int(e['id']) % 2 else sorted({c, (c + 1) % num})
            total = count_frames(osp.join(root, 'frames'), e['id'], '*.jpg')
            lines.append(' '.join([e['id'], str(total), *map(str, labels)]))
        with open(osp.join(ann, out), 'w') as f:
            f.write(''.join(line + '\n' for line in lines))
        print(f'{osp.join(ann, out)}: {len(lines)} videos')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('csv', nargs='?', help='Charades_v1_train.csv or Charades_v1_test.csv')
    p.add_argument('frames_root', nargs='?', help='folder of <id>/ frame folders')
    p.add_argument('out', nargs='?', help='list file to write')
    p.add_argument('--frame-glob', default='img_*.jpg', help='frame files inside <id>/')
    p.add_argument('--keep-unlabeled', action='store_true',
                   help='write videos without actions (no labels) instead of skipping them')
    p.add_argument('--toy-from-sthv2', metavar='ROOT',
                   help='write toy lists from the toy SSv2 data instead')
    args = p.parse_args(argv)
    if not args.toy_from_sthv2 and not (args.csv and args.frames_root and args.out):
        p.error('csv, frames_root and out are required (or --toy-from-sthv2 ROOT)')
    return args


def main(argv=None):
    args = parse_args(argv)
    if args.toy_from_sthv2:
        toy_from_sthv2(args.toy_from_sthv2)
    else:
        convert(args.csv, args.frames_root, args.out, args.frame_glob, args.keep_unlabeled)


if __name__ == '__main__':
    sys.exit(main())
