"""SSv2-format benchmark data designed for DMCL and Mutual (Modality) Learning.

Written in the layout of ``tools/data/generate_toy_dataset.py``'s ``sthv2/`` folder (mp4 videos,
JPEG frames, denseflow x/y flow, one-channel depth PNGs, SSv2 label / split JSONs), reusing that
generator's writers and renderers, so the toy configs of configs/dmcl/toy/ and configs/mml/toy/
read it unchanged (their ``data/toy`` prefix is replaced by this folder's parent). The toy
generator's default data (tests, demos) is not touched.

The label is two factors: the motion direction ``D`` (left→right, right→left, up, down) and the
hand action ``P`` (push: open palm *behind* the object; pull: fist *ahead* of it), 8 classes,
chance 12.5 %. What each modality carries (``DESIGN`` holds the knobs; docs/benchmarks.md says
why):

* **flow** (x/y, denseflow layout): the displacement of the moving region (object + hand box,
  smoothed, so the hand's *shape* is not in the flow). ``D`` is the mean flow: a randomly
  initialised network already separates it, so flow learns first (DMCL Fig. 3). ``P`` only
  through where the moving hand box sits (behind / ahead of the object), and not at all when
  the hand grips the object from above (``hand_centred``). ``flow_degraded`` videos: weak and
  noisy flow, ``D`` and ``P`` nearly gone.
* **depth** (one channel, near = dark): object nearer than the background, hand nearest, its
  shape (palm / fist) sharp: ``P`` clean. ``depth_frozen`` videos: the sensor repeats one frame
  (no motion: ``D`` only through the hand's side of the object); ``depth_hand_lost`` videos:
  the hand is out of the sensor's range.
* **rgb**: everything (``D`` from the object's motion, ``P`` from the hand's shape and side) but
  at a low contrast on a textured background with a static distractor object and pixel noise,
  so it learns last and overfits the small training set; ``rgb_blurred`` videos: defocus blur
  hides the hand's shape (``P`` only through its side).

Corruptions are drawn independently per modality and video (recorded in
``annotations/toy_cues.json``), so the modalities are complementary: no single one solves the
task, the sum of the three (Σ) and the oracle (Φ) do much better.

Usage::

    python benchmarks/reproduce/designs/sthv2_mutual.py --out-dir /tmp/mutual --train-per-class 30
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
# template (with [something]), direction (dx, dy) in image coordinates (y down), action
CLASSES = [
    ('Pushing [something] from left to right', (1, 0), 'push'),
    ('Pushing [something] from right to left', (-1, 0), 'push'),
    ('Pushing [something] up', (0, -1), 'push'),
    ('Pushing [something] down', (0, 1), 'push'),
    ('Pulling [something] from left to right', (1, 0), 'pull'),
    ('Pulling [something] from right to left', (-1, 0), 'pull'),
    ('Pulling [something] up', (0, -1), 'pull'),
    ('Pulling [something] down', (0, 1), 'pull'),
]

# The knobs (probabilities are per video, drawn independently per modality).
DESIGN = dict(
    size=64,                 # frame side (pixels); the toy pipelines crop and resize to 32
    fps=12,
    frames=(16, 25),         # frames per video: U{16..24}
    travel=(0.35, 0.6),      # object travel over the video, fraction of the frame side
    hand_centred=0.35,       # hand grips the object from above: its side carries no P
    # rgb
    rgb_contrast=0.85,       # object / hand colour blended with the background colour
    rgb_texture=20.0,        # amplitude of the smooth background colour texture (0..255)
    rgb_noise=6.0,           # pixel noise (std, 0..255)
    rgb_jitter=0.8,          # per-frame position jitter (pixels at 64², std)
    rgb_distractor=0.7,      # probability of a static distractor object
    rgb_blurred=0.3,         # defocus blur hides the hand shape
    rgb_blur_sigma=3.0,
    # flow
    flow_degraded=0.15,      # weak + noisy flow
    flow_noise=0.5,          # background flow noise (pixels / frame, std)
    flow_region_noise=0.7,   # noise inside the moving region
    flow_smooth=2.5,         # Gaussian smoothing of the moving-region mask (pixels)
    # depth
    depth_frozen=0.5,        # one depth frame repeated: no motion
    depth_hand_lost=0.1,     # hand out of the depth range
    depth_noise=8.0,
)


def plan_video(seed, k, label, d):
    """Every random choice of video ``k`` (its own generator: independent of the workers)."""
    rng = np.random.default_rng([seed, 31, k])
    size = d['size']
    sc = size / 64.0
    (dx, dy), action = CLASSES[label][1], CLASSES[label][2]
    T = int(rng.integers(*d['frames']))
    r = float(rng.uniform(5.5, 7.5) * sc)
    hw, hh = 1.0 * r, 0.9 * r                # hand half width, full height
    centred = bool(rng.random() < d['hand_centred'])
    # hand centre relative to the object centre: behind (push) / ahead (pull) along the motion,
    # or on top of the object (centred)
    side = -1.0 if action == 'push' else 1.0
    off = 0.0 if centred else side * (r + 0.9 * hw)
    hand_dx, hand_dy = dx * off, dy * off - (0.6 * r if centred else 0.0)
    margin = r + 2 * hw + 2
    lo, hi = margin, size - 1 - margin
    v = float(rng.uniform(*d['travel']) * size / (T - 1))
    v = min(v, (hi - lo) / (T - 1))
    travel = v * (T - 1)
    along0 = float(rng.uniform(lo, max(lo, hi - travel))) if dx + dy > 0 else float(
        rng.uniform(min(hi, lo + travel), hi))
    across0 = float(rng.uniform(lo, hi))
    x0, y0 = (along0, across0) if dx else (across0, along0)
    objs = rng.permutation(len(toy.STHV2_OBJECTS))
    return dict(
        T=T, r=r, hw=hw, hh=hh, v=v, x0=x0, y0=y0, dir=(dx, dy), action=action,
        centred=centred, hand_off=(hand_dx, hand_dy), obj=int(objs[0]),
        distractor=int(objs[1]) if rng.random() < d['rgb_distractor'] else None,
        distractor_pos=(float(rng.uniform(0.15, 0.85) * size),
                        float(rng.uniform(0.15, 0.85) * size)),
        distractor_r=float(rng.uniform(4.0, 7.0) * sc),
        skin=np.array([120, 160, 215], np.float32) + rng.uniform(-15, 15, 3).astype(np.float32),
        jitter=(rng.standard_normal((T, 2)) * d['rgb_jitter'] * sc).astype(np.float32),
        rgb_blurred=bool(rng.random() < d['rgb_blurred']),
        flow_degraded=bool(rng.random() < d['flow_degraded']),
        depth_frozen=bool(rng.random() < d['depth_frozen']),
        depth_frozen_at=int(rng.integers(0, T)),
        depth_hand_lost=bool(rng.random() < d['depth_hand_lost']),
    )


def hand_alpha(xx, yy, hx, hy, pl):
    """[L, H, W] alpha of the hand: open palm (push) = box, fist (pull) = small round blob."""
    if pl['action'] == 'push':
        return toy.rect_alpha(xx, yy, hx - pl['hw'], hy - pl['hh'] / 2, hx + pl['hw'],
                              hy + pl['hh'] / 2)
    return toy.superellipse_alpha(xx, yy, hx, hy, 0.55 * pl['hh'], 2.0)


def render_video(job):
    """Write one video's rgb (mp4 + JPEG frames), flow and depth; return its annotation."""
    seed, k, vid, label, d, root = job
    cv2.setNumThreads(1)
    pl = plan_video(seed, k, label, d)
    rng = np.random.default_rng([seed, 32, k])
    size, T, r = d['size'], pl['T'], pl['r']
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = pl['dir']
    steps = np.arange(T, dtype=np.float32) * pl['v']
    cx = (pl['x0'] + dx * steps).astype(np.float32)
    cy = (pl['y0'] + dy * steps).astype(np.float32)
    jx, jy = cx + pl['jitter'][:, 0], cy + pl['jitter'][:, 1]
    hdx, hdy = pl['hand_off']
    _, col0, p0 = toy.STHV2_OBJECTS[pl['obj']]

    # ---- rgb: low-contrast object and hand on a textured background, static distractor
    bg = toy.smooth_background(rng, size, size, (110, 140, 160), d['rgb_texture'])
    frames = np.empty((T, size, size, 3), np.float32)
    frames[:] = bg
    mean_bg = bg.reshape(-1, 3).mean(0)
    a = d['rgb_contrast']
    if pl['distractor'] is not None:
        _, col1, p1 = toy.STHV2_OBJECTS[pl['distractor']]
        ox, oy = pl['distractor_pos']
        al = toy.superellipse_alpha(xx, yy, [ox], [oy], pl['distractor_r'], p1)
        toy.blend(frames, np.broadcast_to(al, (T, size, size)),
                  (1 - a) * mean_bg + a * np.asarray(col1, np.float32))
    toy.blend(frames, toy.superellipse_alpha(xx, yy, jx, jy, r, p0),
              (1 - a) * mean_bg + a * np.asarray(col0, np.float32))
    hand = hand_alpha(xx, yy, jx + hdx, jy + hdy, pl)
    toy.blend(frames, hand, (1 - a) * mean_bg + a * pl['skin'])
    if pl['rgb_blurred']:
        s = d['rgb_blur_sigma'] * size / 64.0
        frames = np.stack([cv2.GaussianBlur(f, (0, 0), s) for f in frames])
    frames += rng.standard_normal(frames.shape, dtype=np.float32) * d['rgb_noise']
    frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)
    toy.write_sthv2_rgb(root, vid, frames, d['fps'])

    # ---- flow (flow i = frame i -> i + 1): object + hand box, mask smoothed (no hand shape)
    disp = np.stack([np.diff(cx), np.diff(cy)], 1).astype(np.float32)        # [T-1, 2]
    obj_a = toy.superellipse_alpha(xx, yy, cx[:-1], cy[:-1], r, p0)
    box_a = toy.rect_alpha(xx, yy, cx[:-1] + hdx - pl['hw'], cy[:-1] + hdy - pl['hh'] / 2,
                           cx[:-1] + hdx + pl['hw'], cy[:-1] + hdy + pl['hh'] / 2)
    region = np.maximum(obj_a, box_a)
    s = d['flow_smooth'] * size / 64.0
    region = np.stack([cv2.GaussianBlur(m, (0, 0), s) for m in region])
    gain, sigma = (0.25, 2.0) if pl['flow_degraded'] else (1.0, d['flow_region_noise'])
    flow = rng.standard_normal((T - 1, size, size, 2), dtype=np.float32) * d['flow_noise']
    flow += region[..., None] * (disp[:, None, None, :] * gain + sigma * rng.standard_normal(
        (T - 1, size, size, 2), dtype=np.float32))
    toy.write_sthv2_flow(root, vid, flow)

    # ---- depth (near = dark): background 200, object 120, hand 70 with its sharp shape
    drng = np.random.default_rng([seed, 33, k])
    obj_d = toy.superellipse_alpha(xx, yy, jx, jy, r, p0)
    depth = np.full((T, size, size), 200.0, np.float32) - 80.0 * obj_d
    if not pl['depth_hand_lost']:
        depth = depth * (1.0 - hand) + 70.0 * hand
    if pl['depth_frozen']:
        depth = np.repeat(depth[pl['depth_frozen_at']][None], T, 0)
    depth += drng.standard_normal(depth.shape, dtype=np.float32) * d['depth_noise']
    ddir = osp.join(root, 'depth', vid)
    os.makedirs(ddir, exist_ok=True)
    toy.write_jpgs(np.clip(depth + 0.5, 0, 255).astype(np.uint8), osp.join(ddir, '{:05d}.png'))

    name0 = toy.STHV2_OBJECTS[pl['obj']][0]
    cues = dict(id=vid, label=label, frames=T, direction=list(pl['dir']), action=pl['action'],
                hand_centred=pl['centred'], rgb_blurred=pl['rgb_blurred'],
                flow_degraded=pl['flow_degraded'], depth_frozen=pl['depth_frozen'],
                depth_hand_lost=pl['depth_hand_lost'])
    return vid, label, name0, cues


def generate(out_dir, seed=0, train_per_class=30, val_per_class=30, workers=1, **knobs):
    """Write ``<out_dir>/sthv2`` (the toy SSv2 layout); return counts.

    Args:
        out_dir (str): parent folder (the toy configs' ``data/toy``).
        seed (int): data seed (the same seed and knobs give byte-identical JPEG/PNG files).
        train_per_class, val_per_class (int): videos per class in each split.
        knobs: overrides of :data:`DESIGN` (unknown names raise ``KeyError``).
    """
    unknown = set(knobs) - set(DESIGN)
    if unknown:
        raise KeyError(f'unknown design knobs {sorted(unknown)}; known: {sorted(DESIGN)}')
    d = dict(DESIGN, **knobs)
    root = osp.join(out_dir, 'sthv2')
    toy._prepare_dir(root)
    os.makedirs(osp.join(root, 'videos'), exist_ok=True)
    t0 = time.time()
    jobs, split_of, k = [], {}, 0
    order_rng = np.random.default_rng([seed, 35])
    for split, per_class in (('train', train_per_class), ('validation', val_per_class)):
        labels = np.repeat(np.arange(len(CLASSES)), per_class)
        for lab in labels[order_rng.permutation(len(labels))]:
            vid = str(1000 + k)
            jobs.append((seed, k, vid, int(lab), d, root))
            split_of[vid] = split
            k += 1
    if workers > 1:
        results = toy._map(render_video, jobs, workers, 'sthv2 (mutual design) videos')
    else:   # no progress bar in the suites' logs
        results = [render_video(j) for j in jobs]
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    labels_json = {t.replace('[', '').replace(']', ''): str(i)
                   for i, (t, _, _) in enumerate(CLASSES)}
    toy.write_text(osp.join(ann_dir, 'labels.json'), json.dumps(labels_json, indent=1) + '\n')
    counts = {}
    for split in ('train', 'validation'):
        entries = [{'id': vid, 'label': CLASSES[lab][0].replace('[something]', name).lower(),
                    'template': CLASSES[lab][0], 'placeholders': [name]}
                   for vid, lab, name, _ in results if split_of[vid] == split]
        toy.write_text(osp.join(ann_dir, f'{split}.json'), json.dumps(entries) + '\n')
        counts[split] = len(entries)
    toy.write_text(osp.join(ann_dir, 'toy_cues.json'),
                   json.dumps([dict(c, split=split_of[c['id']]) for *_, c in results],
                              indent=1) + '\n')
    toy.write_text(osp.join(root, 'DESIGN.json'), json.dumps(
        dict(design='benchmarks/reproduce/designs/sthv2_mutual.py', version=VERSION, seed=seed,
             train_per_class=train_per_class, val_per_class=val_per_class, knobs=d,
             classes=[c[0] for c in CLASSES]), indent=1) + '\n')
    counts['seconds'] = round(time.time() - t0, 1)
    return counts


def bayes_ceilings(cues):
    """Best top-1 each modality (and their union) can reach on ``cues`` if a network used every
    cue the design leaves in it (analytic; ties broken at random in expectation)."""
    def p_dir(c, m):
        if m == 'flow':
            return 0.25 if c['flow_degraded'] else 1.0
        if m == 'depth':
            if not c['depth_frozen']:
                return 1.0
            # a still frame: the side of a visible, off-centre hand and its shape give D
            return 1.0 if not (c['hand_centred'] or c['depth_hand_lost']) else 0.25
        return 1.0

    def p_act(c, m):
        if m == 'flow':
            return 0.5 if (c['flow_degraded'] or c['hand_centred']) else 1.0
        if m == 'depth':
            return 0.5 if c['depth_hand_lost'] else 1.0
        return 0.5 if (c['rgb_blurred'] and c['hand_centred']) else 1.0

    out = {}
    for m in ('rgb', 'depth', 'flow'):
        out[m] = float(np.mean([p_dir(c, m) * p_act(c, m) for c in cues]))
    out['any'] = float(np.mean([max(p_dir(c, m) for m in ('rgb', 'depth', 'flow')) *
                                max(p_act(c, m) for m in ('rgb', 'depth', 'flow'))
                                for c in cues]))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--out-dir', required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--train-per-class', type=int, default=30)
    p.add_argument('--val-per-class', type=int, default=30)
    p.add_argument('--num-workers', type=int, default=1)
    p.add_argument('--knob', nargs='+', default=[], metavar='NAME=VALUE',
                   help='override a DESIGN knob (python literal)')
    a = p.parse_args(argv)
    import ast
    knobs = {kv.split('=', 1)[0]: ast.literal_eval(kv.split('=', 1)[1]) for kv in a.knob}
    counts = generate(a.out_dir, a.seed, a.train_per_class, a.val_per_class, a.num_workers,
                      **knobs)
    cues = json.loads((Path(a.out_dir) / 'sthv2/annotations/toy_cues.json').read_text())
    print(json.dumps(dict(counts=counts, bayes_top1=bayes_ceilings(
        [c for c in cues if c['split'] == 'validation'])), indent=1))


# ----------------------------------------------------------------------- suite helpers
#: Sizes of the generated data per suite scale (videos per class; 8 classes). 400 validation
#: videos: a top-1 near 70 % then has a binomial std of 2.3 points (3.2 with 200).
SCALES = dict(full=dict(train_per_class=24, val_per_class=50),
              smoke=dict(train_per_class=2, val_per_class=1))


def config_options(members, epochs=20, lr=1e-3):
    """Config changes (``Config.merge_from_dict``) that every row of a suite on this design
    gets: 8-class heads for ``members`` and the AdamW schedule of the toy configs
    (configs/_base_/datasets/toy_sthv2_dmcl.py: linear warm-up over 10 % of the epochs, then
    linear decay to 0) over ``epochs`` at peak ``lr``. (In-process one-epoch runs, the smoke,
    get non-persistent loader workers from ``common.Suite.config``, as every suite's.)"""
    opts = {f'model.members.{m}.cls_head.num_classes': len(CLASSES) for m in members}
    warm = max(1, round(epochs * 0.1))
    opts.update({
        'train_cfg.max_epochs': epochs,
        'optim_wrapper.optimizer.lr': lr,
        'param_scheduler': [
            dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, by_epoch=True, begin=0,
                 end=warm, convert_to_iter_based=True),
            dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True, begin=warm,
                 end=epochs, convert_to_iter_based=True)],
    })
    return opts


def generate_for_suite(suite, **knobs):
    """Generate this design's data once into ``<suite.out>/data/sthv2`` (the suites' ``data/toy``
    replacement; regenerated only when the design module, the scale or ``knobs`` change) by
    running this module as a tool (``suite.run_cmd``: its seconds are kept in the suite's
    timings, in-process with ``--smoke``), and record the validation count and the design in
    ``suite.extra``.

    Raises:
        RuntimeError: the data would be (re)generated while ``<suite.out>/seed*/*/result.json``
            exist (finished runs on other data, which the suite would reuse)."""
    import hashlib
    sizes = SCALES[suite.scale]
    want = dict(design_sha256=hashlib.sha256(Path(__file__).read_bytes()).hexdigest(),
                generator_sha256=hashlib.sha256(Path(toy.__file__).read_bytes()).hexdigest(),
                sizes=sizes, knobs=knobs)
    stamp = suite.data_dir / '.suite_args.json'
    if not (stamp.exists() and json.loads(stamp.read_text()) == want):
        finished = sorted(Path(suite.out).glob('seed*/*/result.json'))
        if finished:
            # the suite reuses finished runs (result.json): new data under old results would
            # mix two benchmarks in one table
            have = json.loads(stamp.read_text()) if stamp.exists() else None
            changed = ([k for k in want if have.get(k) != want[k]] if isinstance(have, dict)
                       else ['no data stamp'])
            raise RuntimeError(
                f'{suite.out}: {len(finished)} finished runs (e.g. {finished[0]}) were trained '
                f'on other data than this design now generates ({", ".join(changed)} changed '
                f'since {stamp}): start the suite in a fresh --out, or delete the seed*/ dirs')
        suite.data_dir.mkdir(parents=True, exist_ok=True)
        cmd = [sys.executable, osp.relpath(__file__, REPO), '--out-dir', str(suite.data_dir),
               '--seed', '0', '--train-per-class', str(sizes['train_per_class']),
               '--val-per-class', str(sizes['val_per_class'])]
        if knobs:
            cmd += ['--knob'] + [f'{k}={v!r}' for k, v in sorted(knobs.items())]
        suite.run_cmd(cmd, suite.out / 'generate_data.log')
        stamp.write_text(json.dumps(want))
    ann = suite.data_dir / 'sthv2' / 'annotations'
    suite.extra['val_items'] = len(json.loads((ann / 'validation.json').read_text()))
    suite.extra['data_design'] = dict(module='benchmarks/reproduce/designs/sthv2_mutual.py',
                                      version=VERSION, sizes=sizes, knobs=dict(DESIGN, **knobs))


if __name__ == '__main__':
    main()
