"""SSv2-format benchmark data designed for multimodal → RGB distillation and D3D.

Written in the layout of ``tools/data/generate_toy_dataset.py``'s ``sthv2/`` folder (mp4 videos,
JPEG frames, denseflow x/y flow, Something-Else boxes, SSv2 label / split JSONs) with that
generator's writers and renderers, so configs/mm2rgb/toy/ and configs/d3d/toy/ read it unchanged
(their ``data/toy`` prefix is replaced by this folder). The toy generator's default data (tests,
demos) is not touched.

The six classes are the toy's SSv2 templates (``toy.STHV2_CLASSES``): pushing / pulling
[something] from left to right / right to left, moving [something] up / down. A class is two
factors, as in Something-Something: the direction of motion ``D`` and, for the horizontal
classes, the hand's relation to the object ``R``: pushing = the hand *behind* the moving object,
pulling = the hand *ahead* of it (on the side it moves to). Neither factor alone gives the class:
a single frame shows the hand's side, not the motion; the motion does not say push or pull. For
up / down the hand's side is random (no information). What each modality carries (``DESIGN``
holds the knobs; docs/benchmarks.md, "Multimodal → RGB" and "D3D", says why):

* **rgb**: everything (``D`` from the object's and hand's motion, ``R`` from the hand's side),
  but the moving pair is drawn at a low contrast on a textured background with pixel noise and
  static distractors; ``rgb_lowvis`` videos: the pair is nearly invisible (both factors gone).
* **flow** (x/y, denseflow layout): the displacement of the moving region (one box around object
  and hand, so the hand's side is not in it): ``D`` only, at most 4 of 6 classes;
  ``flow_degraded`` videos: the flow failed (noise only).
* **boxes** (Something-Else ``annotations.json``): object and hand boxes per frame: ``D`` from the
  trajectory, ``R`` from the hand box's side of the object box (a relation between two boxes:
  what STLT models); ``boxes_hand_lost`` videos: the detector never finds the hand (``R`` gone),
  ``boxes_track_lost`` videos: the object and hand are only annotated in the first frames (``D``
  gone); box jitter everywhere.

Corruptions are drawn independently per modality and video (``annotations/toy_cues.json``), so
the modalities are complementary and their logit ensemble beats each of them.

Usage::

    python benchmarks/reproduce/designs/sthv2_distill.py --out-dir /tmp/distill \\
        --train-per-class 60 --val-per-class 60
"""
import argparse
import json
import os
import os.path as osp
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / 'tools' / 'data'))
import generate_toy_dataset as toy  # noqa: E402

VERSION = 1
CLASSES = toy.STHV2_CLASSES       # (template, (dx, dy), pose); pose 0 push, 1 pull / move
PUSH, PULL = 0, 1

# Knobs (fractions are per video, drawn independently per modality). Sizes in pixels of the
# 64 × 64 frame.
DESIGN = dict(
    size=64, fps=12, frames=(16, 25),
    speed=(0.3, 0.5),             # travel over the video, as a fraction of the frame side
    obj_radius=(4.5, 6.5),
    hand_radius=(3.5, 4.5),
    hand_offset=0.9,              # hand centre at this × the object radius beside its centre
    # rgb
    rgb_contrast=(0.15, 1.0),     # per-video colour distance of the pair from the background
                                  # (1 = the object's / skin's own colour), uniform in [lo, hi]
    distractor_contrast=0.6,
    rgb_noise=10.0,               # pixel noise std (0..255)
    rgb_lowvis=0.2,               # videos whose pair is nearly invisible (contrast × 0.1)
    distractors=(1, 3),           # static distractor blobs per video
    # flow
    flow_noise=0.7,               # std of the flow noise inside the moving region (px)
    flow_bg_noise=0.5,            # std of the background flow noise (px)
    flow_degraded=0.2,            # videos whose flow failed: noise only (σ 2.0), no motion
    # boxes
    box_jitter=1.0,               # uniform ± px on every coordinate
    boxes_hand_lost=0.4,          # videos without a hand box
    boxes_track_lost=0.3,         # videos with object / hand boxes only on the first 3 frames
)


def plan_video(seed, k, label, design):
    """All random choices of video ``k`` (class ``label``): a dict."""
    d = design
    rng = np.random.default_rng([seed, 31, k])
    size = d['size']
    (dx, dy), kind = CLASSES[label][1], CLASSES[label][2]
    T = int(rng.integers(*d['frames']))
    r = float(rng.uniform(*d['obj_radius']))
    rh = float(rng.uniform(*d['hand_radius']))
    if dx:   # horizontal: push = hand behind the object, pull = hand ahead of it
        side = -dx if kind == PUSH else dx
    else:    # up / down: the hand's side carries nothing
        side = int(rng.choice([-1, 1]))
    gap = d['hand_offset'] * r             # hand centre's offset from the object centre (x)
    # The pair (object + hand on either side) spans cx ± ext; the margins are the same for both
    # hand sides, so the object's position says nothing about the hand's side (nor the class).
    ext = gap + rh
    left, right = ext + 2, size - 1 - ext - 2
    top, bottom = r + 2, size - 1 - r - 2
    lo, hi = (left, right) if dx else (top, bottom)
    travel = float(rng.uniform(*d['speed']) * size)
    travel = min(travel, hi - lo)
    v = travel / (T - 1)
    # (max / min: travel can exceed hi - lo by a rounding error when it was clipped)
    along0 = float(rng.uniform(lo, max(lo, hi - travel))) if dx + dy > 0 else float(
        rng.uniform(min(hi, lo + travel), hi))
    if dx:
        x0, y0 = along0, float(rng.uniform(top, bottom))
    else:
        x0, y0 = float(rng.uniform(left, right)), along0
    n_dis = int(rng.integers(d['distractors'][0], d['distractors'][1] + 1))
    return dict(
        T=T, r=r, rh=rh, gap=gap, ext=ext, side=side, v=v, x0=x0, y0=y0, dir=(dx, dy), label=label,
        obj=int(rng.integers(len(toy.STHV2_OBJECTS))),
        obj_col_jit=rng.uniform(-20, 20, 3),
        skin=np.array([120, 160, 215], np.float64) + rng.uniform(-15, 15, 3),
        jitter=rng.standard_normal((T, 2)) * 0.4,
        distractors=[(float(rng.uniform(4, size - 4)), float(rng.uniform(4, size - 4)),
                      float(rng.uniform(3.5, 7.0)), int(rng.integers(len(toy.STHV2_OBJECTS))),
                      float(rng.choice([2.0, 6.0]))) for _ in range(n_dis)],
        rgb_lowvis=bool(rng.random() < d['rgb_lowvis']),
        contrast=float(rng.uniform(*d['rgb_contrast'])),
        flow_degraded=bool(rng.random() < d['flow_degraded']),
        hand_lost=bool(rng.random() < d['boxes_hand_lost']),
        track_lost=bool(rng.random() < d['boxes_track_lost']),
        box_jitter=rng.uniform(-d['box_jitter'], d['box_jitter'], (T, 2, 4)),
    )


def _towards(colour, bg, contrast):
    """``bg + contrast · (colour − bg)``: the colour at a reduced contrast."""
    return bg + contrast * (np.asarray(colour, np.float32) - bg)


def render_video(job):
    """Worker: write frames, mp4, flow of one video; return (vid, label, name, boxes, cues)."""
    seed, k, vid, label, design, root = job
    d = design
    cv2.setNumThreads(1)
    pl = plan_video(seed, k, label, d)
    rng = np.random.default_rng([seed, 32, k])
    size, T, r, rh = d['size'], pl['T'], pl['r'], pl['rh']
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = pl['dir']
    steps = np.arange(T, dtype=np.float32) * pl['v']
    cx = (pl['x0'] + dx * steps).astype(np.float32)
    cy = (pl['y0'] + dy * steps).astype(np.float32)
    jx, jy = cx + pl['jitter'][:, 0], cy + pl['jitter'][:, 1]
    hx, hy = jx + pl['side'] * pl['gap'], jy

    # ---- rgb
    bg = toy.smooth_background(rng, size, size, (110, 140, 160), 30)
    frames = np.empty((T, size, size, 3), np.float32)
    frames[:] = bg
    for ox, oy, orad, oi, op in pl['distractors']:
        a = toy.superellipse_alpha(xx, yy, [ox], [oy], orad, op)
        col = _towards(toy.STHV2_OBJECTS[oi][1], bg[int(oy), int(ox)], d['distractor_contrast'])
        toy.blend(frames, np.broadcast_to(a, (T, size, size)), col)
    contrast = pl['contrast'] * (0.1 if pl['rgb_lowvis'] else 1.0)
    name, col0, p0 = toy.STHV2_OBJECTS[pl['obj']]
    col0 = np.clip(np.asarray(col0, np.float32) + pl['obj_col_jit'], 0, 255)
    mean_bg = bg.reshape(-1, 3).mean(0)
    toy.blend(frames, toy.superellipse_alpha(xx, yy, jx, jy, r, p0),
              _towards(col0, mean_bg, contrast))
    toy.blend(frames, toy.superellipse_alpha(xx, yy, hx, hy, rh, 2.0),
              _towards(pl['skin'], mean_bg, contrast))
    frames += rng.standard_normal(frames.shape, dtype=np.float32) * d['rgb_noise']
    frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)
    toy.write_sthv2_rgb(root, vid, frames, d['fps'])

    # ---- flow (denseflow layout): flow i = frame i -> i + 1 in one box around object + hand
    disp = np.stack([np.diff(cx), np.diff(cy)], 1).astype(np.float32)       # [T-1, 2]
    ext = pl['ext']    # symmetric about the object: the hand's side is not in the flow
    region = toy.rect_alpha(xx, yy, cx[:-1] - ext, cy[:-1] - r, cx[:-1] + ext, cy[:-1] + r)
    gain, sigma = (0.0, 2.0) if pl['flow_degraded'] else (1.0, d['flow_noise'])
    flow = rng.standard_normal((T - 1, size, size, 2), dtype=np.float32) * d['flow_bg_noise']
    flow += region[..., None] * (disp[:, None, None, :] * gain + sigma * rng.standard_normal(
        (T - 1, size, size, 2), dtype=np.float32))
    toy.write_sthv2_flow(root, vid, flow)

    # ---- Something-Else boxes (pixels)
    def bx(x1, y1, x2, y2, jit):
        c = np.clip(np.array([x1, y1, x2, y2]) + jit, 0, size)
        return {'x1': round(float(c[0]), 3), 'y1': round(float(c[1]), 3),
                'x2': round(float(c[2]), 3), 'y2': round(float(c[3]), 3)}
    ann = []
    for t in range(1, T + 1):
        i = t - 1
        labels = []
        if not pl['track_lost'] or t <= 3:
            bj = pl['box_jitter'][i]
            labels.append({'box2d': bx(cx[i] - r, cy[i] - r, cx[i] + r, cy[i] + r, bj[0]),
                           'category': name, 'standard_category': '0000',
                           'gt_annotation': 'object 0'})
            if not pl['hand_lost']:
                hxi = cx[i] + pl['side'] * pl['gap']
                labels.append({'box2d': bx(hxi - rh, cy[i] - rh, hxi + rh, cy[i] + rh, bj[1]),
                               'category': 'hand', 'standard_category': 'hand',
                               'gt_annotation': 'object hand'})
        ann.append({'name': f'{vid}/{t:04d}.jpg', 'labels': labels, 'gt_placeholders': [name],
                    'nr_instances': len(labels)})
    cues = dict(id=vid, label=label, frames=T, hand_side=pl['side'],
                rgb_contrast=round(contrast, 3),
                rgb_lowvis=pl['rgb_lowvis'], flow_degraded=pl['flow_degraded'],
                boxes_hand_lost=pl['hand_lost'], boxes_track_lost=pl['track_lost'])
    return vid, label, name, ann, cues


def generate(out_dir, seed=0, train_per_class=60, val_per_class=60, workers=None, design=None):
    """Write ``<out_dir>/sthv2`` (the toy generator's layout); return a dict of counts."""
    design = dict(DESIGN, **(design or {}))
    root = osp.join(out_dir, 'sthv2')
    toy._prepare_dir(root)
    os.makedirs(osp.join(root, 'videos'), exist_ok=True)
    t0 = time.time()
    n_cls = len(CLASSES)
    jobs, split_of = [], {}
    order_rng = np.random.default_rng([seed, 35])
    k = 0
    for split, per_class in (('train', train_per_class), ('validation', val_per_class)):
        labels = np.repeat(np.arange(n_cls), per_class)
        for lab in labels[order_rng.permutation(len(labels))]:
            vid = str(1000 + k)
            jobs.append((seed, k, vid, int(lab), design, root))
            split_of[vid] = split
            k += 1
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    results = toy._map(render_video, jobs, workers, 'sthv2_distill videos')
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    labels_json = {t.replace('[', '').replace(']', ''): str(i)
                   for i, (t, _, _) in enumerate(CLASSES)}
    toy.write_text(osp.join(ann_dir, 'labels.json'), json.dumps(labels_json, indent=1) + '\n')
    counts = {}
    for split in ('train', 'validation'):
        entries = [{'id': vid, 'label': CLASSES[lab][0].replace('[something]', name).lower(),
                    'template': CLASSES[lab][0], 'placeholders': [name]}
                   for vid, lab, name, _, _ in results if split_of[vid] == split]
        toy.write_text(osp.join(ann_dir, f'{split}.json'), json.dumps(entries) + '\n')
        counts[split] = len(entries)
    toy.write_text(osp.join(ann_dir, 'annotations.json'),
                   json.dumps({vid: ann for vid, _, _, ann, _ in results}) + '\n')
    cues = [dict(c, split=split_of[c['id']]) for *_, c in results]
    toy.write_text(osp.join(ann_dir, 'toy_cues.json'), json.dumps(cues, indent=1) + '\n')
    toy.write_text(osp.join(out_dir, 'DESIGN.json'), json.dumps(dict(
        version=VERSION, seed=seed, train_per_class=train_per_class,
        val_per_class=val_per_class, design=design), indent=1) + '\n')
    counts['seconds'] = round(time.time() - t0, 1)
    return counts


#: Sizes of the suites' data (videos per class): ``full`` 240 training / 864 validation videos,
#: ``smoke`` 12 / 6 for the end-to-end tests. 864, not the toy SSv2 split's 216: a video is 0.12
#: points of top-1 instead of 0.46, so the split adds less to a row's spread over seeds and to
#: the paired claims' intervals (docs/benchmarks.md ``## D3D``: the same five RGB baselines spread
#: 4.8 points on 216 videos, 2.9 and 4.4 on two 864-video splits).
SUITE_SIZES = dict(full=dict(train_per_class=40, val_per_class=144),
                   smoke=dict(train_per_class=2, val_per_class=1))


def suite_data(suite, knobs=None):
    """Generate this design's data for a reproduction suite (``common.Suite``) in its
    ``data_dir`` (data seed 0, ``SUITE_SIZES[suite.scale]``), through ``suite.run_cmd`` (timed,
    in-process with ``--smoke``); regenerated only when this file, the toy generator it imports
    or the arguments change. Sets ``suite.extra['val_items']``.

    Returns:
        Path: the data folder (``<data_dir>``, holding ``sthv2/``).
    """
    import hashlib

    from common import atomic_write
    sizes = SUITE_SIZES[suite.scale]
    args = ['--seed', '0', '--num-workers', '1',
            '--train-per-class', str(sizes['train_per_class']),
            '--val-per-class', str(sizes['val_per_class'])]
    if knobs:
        args += ['--set', *[f'{k}={v!r}' for k, v in sorted(knobs.items())]]
    here = Path(__file__).resolve()
    digest = hashlib.sha256(here.read_bytes() + (REPO / 'tools/data/generate_toy_dataset.py')
                            .read_bytes()).hexdigest()
    want = dict(args=args, design_sha256=digest)
    stamp = Path(suite.data_dir) / '.suite_args.json'
    if not (stamp.exists() and json.loads(stamp.read_text()) == want):
        suite.run_cmd([sys.executable, str(here.relative_to(REPO)), '--out-dir',
                       str(suite.data_dir), *args], suite.out / 'generate_data.log')
        atomic_write(stamp, json.dumps(want))
    with open(Path(suite.data_dir) / 'sthv2/annotations/validation.json') as f:
        suite.extra['val_items'] = len(json.load(f))
    return Path(suite.data_dir)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out-dir', required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--train-per-class', type=int, default=60)
    p.add_argument('--val-per-class', type=int, default=60)
    p.add_argument('--num-workers', type=int, default=None)
    p.add_argument('--set', nargs='*', default=[], metavar='KNOB=VALUE',
                   help='override DESIGN knobs (Python literals), e.g. rgb_lowvis=0.1')
    return p.parse_args(argv)


def main(argv=None):
    import ast
    a = parse_args(argv)
    over = {}
    for kv in a.set:
        key, val = kv.split('=', 1)
        if key not in DESIGN:
            raise SystemExit(f'unknown knob {key!r}; knobs: {sorted(DESIGN)}')
        over[key] = ast.literal_eval(val)
    counts = generate(a.out_dir, a.seed, a.train_per_class, a.val_per_class, a.num_workers, over)
    print(json.dumps(counts))


if __name__ == '__main__':
    main()
