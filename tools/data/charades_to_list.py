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
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
from mmdistill_plugin.datasets.schemas import charades as schema  # noqa: E402

NUM_CLASSES = schema.NUM_CLASSES


def parse_actions(actions: str, where: str):
    """``"c092 11.90 21.20;c147 0.00 12.60"`` → ``[92, 147]`` (sorted, distinct).

    Raises:
        ValueError: an entry that is not ``cNNN start end`` or a class ≥ 157 (names ``where``).
    """
    try:
        return sorted({c for c, _, _ in schema.parse_actions(actions)})
    except ValueError as err:
        raise ValueError(f'{where}: {err}') from None


def count_frames(frames_root: str, vid: str, frame_glob: str) -> int:
    return len(glob.glob(osp.join(frames_root, vid, frame_glob)))


def convert(csv_file, frames_root, out_file, frame_glob='img_*.jpg', keep_unlabeled=False):
    """Write the list; returns ``dict(written=, skipped_unlabeled=)``.

    Raises:
        FileNotFoundError: the CSV is missing.
        ValueError: videos whose frame folder is missing or empty (names up to 5 of them);
        AnnotationError (a ValueError): rows breaking
            :data:`mmdistill_plugin.datasets.schemas.charades.CHARADES` (missing ``id`` /
            ``actions`` columns, a duplicate id, a bad action, a length <= 0), naming the
            file, line, id, field and value. Actions that end before they start are logged.
    """
    import pandas as pd

    from mmdistill_plugin.datasets.schemas import validate_table
    if not osp.exists(csv_file):
        raise FileNotFoundError(f'Charades CSV not found: {csv_file}')
    with open(csv_file, newline='') as f:
        reader = csv.DictReader(f)
        rows, line_nums = [], []
        for row in reader:
            rows.append(row)
            line_nums.append(reader.line_num)
    df = pd.DataFrame.from_records(rows, columns=reader.fieldnames).astype(object)
    validate_table(df, schema.CHARADES, csv_file, warn_schema=schema.CHARADES_WARNINGS,
                   where=lambda i: f'line {line_nums[i]} (id {rows[i].get("id")!r})')
    lines, skipped, missing = [], 0, []
    for n, row in zip(line_nums, rows):
        labels = parse_actions(row['actions'], f'{csv_file}:{n}')
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
