#!/usr/bin/env python
"""Generate small, deterministic, synthetic multimodal toy datasets in the official layouts.

Two datasets are written under ``--out-dir`` (default ``data/toy``):

* ``epic/``  - EPIC-KITCHENS-100 layout: RGB frames, half-rate u/v flow, 16 kHz wav audio and
  the official annotation CSVs (verb + noun labels, 4 classes each).
* ``sthv2/`` - Something-Something-V2 + Something-Else layout: mp4 videos, JPEG frame folders,
  denseflow x/y flow, SSv2 label/split JSONs and Something-Else per-frame boxes (6 classes).

Every modality carries only PART of the label (see README.txt written next to the data, and
``LABEL DESIGN`` below), so a model fusing all modalities beats any single one and
distillation / missing-modality robustness make a measurable difference.

The same ``--seed`` gives byte-identical annotation files, JPEG frames, flow and wav files
(videos are rendered with per-video random generators, independent of ``--num-workers``).

LABEL DESIGN (EPIC toy; noun = 2 * colour_bit + shape_bit)
  verb (push=right, pull=left, lift=up, lower=down) = motion direction of the object
    flow : object-region flow = displacement, plus a global camera drift of half of it (strong;
           15 % "low-texture" segments weak/noisy)
    rgb  : only through the position change across frames (+ per-frame jitter) - weak
  noun colour bit (warm vs cool hue)  : rgb (10 % segments grey = no colour); audio pitch
    +4 semitone offset with +-3 semitone jitter (~83 % separable)
  noun shape bit (round vs square; pitch octave): rgb shape (35 % segments ambiguous shape);
    audio tone 300 Hz vs 1200 Hz (20 % segments the tone is replaced by a noise burst)
  static (nearly grey) clutter blobs of both shapes, pixel noise, flicker, background audio noise.

LABEL DESIGN (SSv2 toy; 6 classes)
  direction (left->right / right->left / up / down): boxes trajectory, flow, rgb (weak)
  push vs pull (horizontal classes): only the hand pose in rgb (open palm = push, fist = pull;
    15 % ambiguous); boxes / flow regions have the same geometry for both.
  object identity (placeholder, colour) is irrelevant to the label.

Usage::

    python tools/data/generate_toy_dataset.py                       # data/toy, seed 0
    python tools/data/generate_toy_dataset.py --out-dir /tmp/toy --scale tiny --seed 1
"""
import argparse
import csv
import io
import json
import os
import os.path as osp
import shutil
import sys
import time
import wave
from multiprocessing import Pool

import cv2
import numpy as np
from tqdm import tqdm  # a declared requirement (requirements/runtime.txt)

FLOW_BOUND = 20.0
MARKER = '.toy_generated'
GENERATOR_VERSION = 1

# ---------------------------------------------------------------- EPIC classes
EPIC_COLUMNS = ['narration_id', 'participant_id', 'video_id', 'narration_timestamp',
                'start_timestamp', 'stop_timestamp', 'start_frame', 'stop_frame', 'narration',
                'verb', 'verb_class', 'noun', 'noun_class', 'all_nouns', 'all_noun_classes']
# verb -> direction (dx, dy) in image coordinates (y down)
EPIC_VERBS = [  # id, key, instances, category, direction
    (0, 'push', ['push', 'push-right', 'slide-right'], 'move', (1, 0)),
    (1, 'pull', ['pull', 'pull-left', 'slide-left'], 'move', (-1, 0)),
    (2, 'lift', ['lift', 'lift-up', 'raise'], 'move', (0, -1)),
    (3, 'lower', ['lower', 'put-down', 'lower-down'], 'move', (0, 1)),
]
# noun n = 2 * colour_bit + shape_bit; colour 0 warm / 1 cool, shape 0 round / 1 square
EPIC_NOUNS = [
    (0, 'tomato', ['tomato', 'tomato:cherry'], 'vegetables'),
    (1, 'sponge', ['sponge', 'scrub:sponge'], 'cleaning equipment'),
    (2, 'plate', ['plate', 'plate:blue'], 'crockery'),
    (3, 'board', ['board', 'board:chopping'], 'cookware'),
]

# ---------------------------------------------------------------- SSv2 classes
# template (with [something]), direction, hand pose (0 open palm, 1 fist)
STHV2_CLASSES = [
    ('Pushing [something] from left to right', (1, 0), 0),
    ('Pushing [something] from right to left', (-1, 0), 0),
    ('Pulling [something] from left to right', (1, 0), 1),
    ('Pulling [something] from right to left', (-1, 0), 1),
    ('Moving [something] up', (0, -1), 1),
    ('Moving [something] down', (0, 1), 1),
]
# placeholder name -> BGR colour, superellipse exponent (object identity, label-irrelevant)
STHV2_OBJECTS = [
    ('cup', (40, 40, 200), 2.0), ('box', (60, 140, 200), 6.0), ('pen', (200, 60, 40), 6.0),
    ('phone', (50, 50, 50), 6.0), ('ball', (40, 200, 60), 2.0), ('book', (160, 60, 160), 6.0),
    ('bottle', (200, 200, 40), 2.0), ('apple', (30, 30, 160), 2.0),
]

SCALES = {
    # participants, train videos / participant, val videos / participant, segments / video,
    # frame size, sthv2 train / class, sthv2 val / class, sthv2 frame size
    'tiny': dict(epic_participants=2, epic_train_videos=1, epic_val_videos=1,
                 epic_segments=4, epic_size=48, sthv2_train_per_class=2,
                 sthv2_val_per_class=1, sthv2_size=48),
    'small': dict(epic_participants=4, epic_train_videos=1, epic_val_videos=1,
                  epic_segments=16, epic_size=64, sthv2_train_per_class=6,
                  sthv2_val_per_class=3, sthv2_size=64),
    'default': dict(epic_participants=4, epic_train_videos=2, epic_val_videos=1,
                    epic_segments=16, epic_size=64, sthv2_train_per_class=12,
                    sthv2_val_per_class=6, sthv2_size=64),
}


# ====================================================================== helpers
def quantize_flow(flow, bound=FLOW_BOUND):
    """Same quantisation as tools/data/extract_flow.py: clip(round((f + b) * 255 / 2b))."""
    q = np.round((flow + bound) * (255.0 / (2.0 * bound)))
    return np.clip(q, 0, 255).astype(np.uint8)


def fmt_ts(seconds, decimals=2):
    """Seconds -> ``HH:MM:SS.ff`` (decimals=2) or ``HH:MM:SS.fff`` (decimals=3)."""
    scale = 10 ** decimals
    units = int(round(seconds * scale))
    h, rem = divmod(units, 3600 * scale)
    m, rem = divmod(rem, 60 * scale)
    s, frac = divmod(rem, scale)
    return f'{h:02d}:{m:02d}:{s:02d}.{frac:0{decimals}d}'


def parse_ts(ts):
    h, m, s = ts.split(':')
    return int(h) * 3600 + int(m) * 60 + float(s)


def hsv_to_bgr(h_deg, s, v):
    px = np.array([[[h_deg / 2.0, s * 255.0, v * 255.0]]], np.float32).clip(0, 255)
    px = px.astype(np.uint8)
    return cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float32)


def smooth_background(rng, h, w, base, amp):
    low = rng.random((4, 4, 3)).astype(np.float32)
    tex = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
    return np.clip(np.asarray(base, np.float32) + (tex - 0.5) * 2 * amp, 0, 255)


def superellipse_alpha(xx, yy, cx, cy, r, p):
    """Anti-aliased alpha [L, H, W] of superellipses |dx/r|^p + |dy/r|^p <= 1 centred (cx, cy)."""
    dx = np.abs(xx[None] - np.asarray(cx, np.float32)[:, None, None]) / r
    dy = np.abs(yy[None] - np.asarray(cy, np.float32)[:, None, None]) / r
    ratio = (dx ** p + dy ** p) ** (1.0 / p)
    return np.clip((1.0 - ratio) * r + 0.5, 0.0, 1.0)


def rect_alpha(xx, yy, x1, y1, x2, y2):
    """Anti-aliased alpha [L, H, W] of axis-aligned rectangles (per-frame corners, pixels)."""
    def ramp(a, lo, hi):
        lo = np.asarray(lo, np.float32)[:, None, None]
        hi = np.asarray(hi, np.float32)[:, None, None]
        return np.clip(np.minimum(a[None] - lo, hi - a[None]) + 0.5, 0.0, 1.0)
    return ramp(xx, x1, x2) * ramp(yy, y1, y2)


def blend(frames, alpha, colour):
    a = alpha[..., None]
    frames *= (1.0 - a)
    frames += a * np.asarray(colour, np.float32)


def write_wav(path, samples, sr):
    data = (np.clip(samples, -1.0, 1.0) * 32767.0).astype('<i2')
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        w.writeframes(data.tobytes())


def write_jpgs(frames, tmpl, start=1):
    for i, f in enumerate(frames):
        if not cv2.imwrite(tmpl.format(i + start), f):
            raise RuntimeError(f'cannot write {tmpl.format(i + start)}')


def write_epic_rgb(root, pid, vid, frames):
    """EPIC-100 layout: ``<root>/<pid>/rgb_frames/<vid>/frame_0000000001.jpg``, ... from uint8 BGR
    frames ``[T, H, W, 3]``."""
    rgb_dir = osp.join(root, pid, 'rgb_frames', vid)
    os.makedirs(rgb_dir, exist_ok=True)
    write_jpgs(frames, osp.join(rgb_dir, 'frame_{:010d}.jpg'))


def write_epic_flow(root, pid, vid, flow):
    """EPIC-100 layout: ``<root>/<pid>/flow_frames/<vid>/{u,v}/frame_0000000001.jpg``, ... from
    float flow ``[T, H, W, 2]`` in pixels (quantised with :func:`quantize_flow`)."""
    q = quantize_flow(flow)
    for c, axis in enumerate(('u', 'v')):
        d = osp.join(root, pid, 'flow_frames', vid, axis)
        os.makedirs(d, exist_ok=True)
        write_jpgs(q[..., c], osp.join(d, 'frame_{:010d}.jpg'))


def write_sthv2_rgb(root, vid, frames, fps):
    """SSv2 layout: ``<root>/frames/<vid>/0001.jpg``, ... and ``<root>/videos/<vid>.mp4`` (mp4v
    at ``fps``) from uint8 BGR frames ``[T, H, W, 3]``.

    Raises:
        RuntimeError: OpenCV cannot open an mp4v writer.
    """
    fdir = osp.join(root, 'frames', vid)
    os.makedirs(fdir, exist_ok=True)
    write_jpgs(frames, osp.join(fdir, '{:04d}.jpg'))
    h, w = frames.shape[1:3]
    vw = cv2.VideoWriter(osp.join(root, 'videos', f'{vid}.mp4'),
                         cv2.VideoWriter_fourcc(*'mp4v'), float(fps), (w, h))
    if not vw.isOpened():
        raise RuntimeError('cv2.VideoWriter cannot open an mp4v writer')
    for f in frames:
        vw.write(f)
    vw.release()


def write_sthv2_flow(root, vid, flow):
    """denseflow layout: ``<root>/flow/<vid>/{x,y}_00001.jpg``, ... from float flow
    ``[T - 1, H, W, 2]`` in pixels (quantised with :func:`quantize_flow`)."""
    q = quantize_flow(flow)
    odir = osp.join(root, 'flow', vid)
    os.makedirs(odir, exist_ok=True)
    for c, axis in enumerate(('x', 'y')):
        write_jpgs(q[..., c], osp.join(odir, axis + '_{:05d}.jpg'))


def write_text(path, text):
    with open(path, 'w', newline='\n', encoding='utf-8') as f:
        f.write(text)


def csv_text(header, rows):
    buf = io.StringIO()
    wr = csv.writer(buf, lineterminator='\n')
    wr.writerow(header)
    wr.writerows(rows)
    return buf.getvalue()


# ====================================================================== EPIC
def plan_epic_video(seed, p_idx, v_idx, cfg):
    """All random choices of one EPIC video (a list of segments + video length)."""
    rng = np.random.default_rng([seed, 1, p_idx, v_idx])
    fps, size, n_seg = cfg['fps'], cfg['epic_size'], cfg['epic_segments']
    combos = np.array([(v, n) for v in range(4) for n in range(4)])
    reps = int(np.ceil(n_seg / len(combos)))
    order = np.concatenate([rng.permutation(len(combos)) for _ in range(reps)])[:n_seg]
    scale = size / 64.0
    segs = []
    t = int(round(rng.uniform(0.3, 1.0) * fps))  # 0-based first frame of the next segment
    for k in range(n_seg):
        verb, noun = (int(x) for x in combos[order[k]])
        length = int(round(rng.uniform(1.2, 2.0) * fps))
        r = float(rng.uniform(9.0, 12.0) * scale)
        lo, hi = r + 2.0, size - 1 - r - 2.0
        dx, dy = EPIC_VERBS[verb][4]
        v = float(rng.uniform(0.35, 0.8) * scale * 30.0 / fps)
        v = min(v, (hi - lo) / (length - 1))
        travel = v * (length - 1)
        along0 = float(rng.uniform(lo, max(lo, hi - travel))) if dx + dy > 0 else \
            float(rng.uniform(min(hi, lo + travel), hi))
        cross = float(rng.uniform(lo, hi))
        x0, y0 = (along0, cross) if dx != 0 else (cross, along0)
        colour_bit, shape_bit = noun // 2, noun % 2
        grey = bool(rng.random() < 0.10)
        hue = rng.uniform(0, 25) if colour_bit == 0 else rng.uniform(195, 235)
        sat = 0.0 if grey else rng.uniform(0.65, 1.0)
        colour = hsv_to_bgr(hue, sat, rng.uniform(0.55, 0.95))
        ambiguous_shape = bool(rng.random() < 0.35)
        p = 3.3 if ambiguous_shape else (2.0 if shape_bit == 0 else 6.0)
        segs.append(dict(
            verb=verb, noun=noun, start=t, length=length, x0=x0, y0=y0, v=v, r=r, p=p,
            colour=colour.tolist(), grey=grey, ambiguous_shape=ambiguous_shape,
            jitter=(rng.standard_normal((length, 2)) * 0.6 * scale).astype(np.float32),
            flow_degraded=bool(rng.random() < 0.15),
            audio_masked=bool(rng.random() < 0.20),
            pitch_jitter=float(rng.uniform(-3.0, 3.0)),
            tone_amp=float(rng.uniform(0.15, 0.3)),
            narr_offset=float(rng.uniform(0.0, 0.5)),
        ))
        t += length + int(round(rng.uniform(0.3, 1.0) * fps))
    n_frames = t + (t % 2)  # even: flow j covers RGB frames 2j-1 -> 2j+1 (1-based)
    return dict(segments=segs, n_frames=n_frames)


def render_epic_video(job):
    """Worker: write RGB frames, u/v flow and audio of one EPIC video; returns its rows."""
    seed, p_idx, v_idx, cfg, root = job
    cv2.setNumThreads(1)
    plan = plan_epic_video(seed, p_idx, v_idx, cfg)
    rng = np.random.default_rng([seed, 2, p_idx, v_idx])
    pid = f'P{p_idx:02d}'
    vid = f'{pid}_{v_idx:02d}'
    fps, size, sr = cfg['fps'], cfg['epic_size'], cfg['audio_sr']
    n, segs = plan['n_frames'], plan['segments']
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    # ---- RGB: static textured background + clutter, moving object, flicker, noise
    bg = smooth_background(rng, size, size, (150, 175, 195), 35)
    n_clutter = int(rng.integers(3, 6))
    for _ in range(n_clutter):
        # clutter is (nearly) grey: only the object is coloured, its shape is not unique
        col = hsv_to_bgr(rng.uniform(0, 360), rng.uniform(0.0, 0.15), rng.uniform(0.4, 0.95))
        r = rng.uniform(3.0, 6.0) * size / 64.0
        a = superellipse_alpha(xx, yy, [rng.uniform(0, size)], [rng.uniform(0, size)], r,
                               float(rng.choice([2.0, 6.0])))[0]
        bg = bg * (1 - a[..., None]) + a[..., None] * col
    frames = np.empty((n, size, size, 3), np.float32)
    frames[:] = bg
    frames *= (1.0 + 0.04 * rng.standard_normal(n).astype(np.float32))[:, None, None, None]
    pos = np.full((n, 2), np.nan, np.float32)      # smooth object centre per RGB frame
    seg_of = np.full(n, -1, np.int64)
    for k, s in enumerate(segs):
        st, L = s['start'], s['length']
        dx, dy = EPIC_VERBS[s['verb']][4]
        steps = np.arange(L, dtype=np.float32) * s['v']
        cx = s['x0'] + dx * steps
        cy = s['y0'] + dy * steps
        pos[st:st + L, 0], pos[st:st + L, 1] = cx, cy
        seg_of[st:st + L] = k
        jit = s['jitter']
        alpha = superellipse_alpha(xx, yy, cx + jit[:, 0], cy + jit[:, 1], s['r'], s['p'])
        blend(frames[st:st + L], alpha, s['colour'])
    frames += rng.standard_normal(frames.shape, dtype=np.float32) * 6.0
    frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)
    write_epic_rgb(root, pid, vid, frames)
    del frames

    # ---- flow at half rate: flow j (1-based) = displacement RGB frame 2j-1 -> 2j+1
    n_flow = n // 2
    src = np.arange(n_flow) * 2                  # 0-based RGB frame 2j-1
    dst = np.minimum(src + 2, n - 1)             # 0-based RGB frame 2j+1 (clamped)
    same = (seg_of[src] >= 0) & (seg_of[src] == seg_of[dst])
    disp = np.where(same[:, None], pos[dst] - pos[src], 0.0).astype(np.float32)
    flow = rng.standard_normal((n_flow, size, size, 2), dtype=np.float32) * 0.5
    has = seg_of[src] >= 0
    idx = np.nonzero(has)[0]
    if len(idx):
        segk = seg_of[src[idx]]
        rr = np.array([segs[k]['r'] for k in segk], np.float32) + 1.0
        cx, cy = pos[src[idx], 0], pos[src[idx], 1]
        box = rect_alpha(xx, yy, cx - rr, cy - rr, cx + rr, cy + rr)   # [K, H, W]
        degraded = np.array([segs[k]['flow_degraded'] for k in segk])
        gain = np.where(degraded, 0.3, 1.0).astype(np.float32)
        sigma = np.where(degraded, 2.0, 0.8).astype(np.float32)
        noise = rng.standard_normal((len(idx), size, size, 2), dtype=np.float32)
        flow[idx] += box[..., None] * (disp[idx, None, None, :] * gain[:, None, None, None]
                                       + noise * sigma[:, None, None, None])
        # The hand-held camera follows the object a little: a global drift of half the
        # object's displacement, so the verb is also in the mean flow of the frame.
        flow[idx] += 0.5 * disp[idx, None, None, :] * gain[:, None, None, None]
    write_epic_flow(root, pid, vid, flow)
    del flow

    # ---- audio: background noise + hum, one tone per segment (pitch = noun)
    rows = []
    n_samp = int(round(n / fps * sr))
    tt = np.arange(n_samp, dtype=np.float64) / sr
    audio = rng.standard_normal(n_samp).astype(np.float32) * 0.03
    audio += (0.02 * np.sin(2 * np.pi * 100.0 * tt)).astype(np.float32)
    for i, s in enumerate(segs):
        sf, ef = s['start'] + 1, s['start'] + s['length']        # 1-based, inclusive
        st_ts, en_ts = fmt_ts((sf - 1) / fps), fmt_ts(ef / fps)
        a0, a1 = int(round(parse_ts(st_ts) * sr)), min(n_samp, int(round(parse_ts(en_ts) * sr)))
        m = a1 - a0
        env = np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.01 * sr))
        if s['audio_masked']:
            sig = rng.standard_normal(m) * 0.12
        else:
            colour_bit, shape_bit = s['noun'] // 2, s['noun'] % 2
            f0 = (300.0 if shape_bit == 0 else 1200.0) * 2 ** ((4.0 * colour_bit
                                                                 + s['pitch_jitter']) / 12.0)
            ph = 2 * np.pi * f0 * tt[a0:a1]
            sig = s['tone_amp'] * (np.sin(ph) + 0.3 * np.sin(2 * ph))
        audio[a0:a1] += (sig * env).astype(np.float32)
        verb_key, noun_key = EPIC_VERBS[s['verb']][1], EPIC_NOUNS[s['noun']][1]
        rows.append([f'{vid}_{i}', pid, vid,
                     fmt_ts((sf - 1) / fps + s['narr_offset'], 3), st_ts, en_ts, sf, ef,
                     f'{verb_key} {noun_key}', verb_key, s['verb'], noun_key, s['noun'],
                     str([noun_key]), str([s['noun']])])
    adir = osp.join(root, pid, 'audio')
    os.makedirs(adir, exist_ok=True)
    write_wav(osp.join(adir, f'{vid}.wav'), audio, sr)
    cues = [dict(narration_id=r[0], grey=s['grey'], ambiguous_shape=s['ambiguous_shape'],
                 flow_degraded=s['flow_degraded'], audio_masked=s['audio_masked'],
                 speed_px_per_frame=round(s['v'], 4)) for r, s in zip(rows, segs)]
    info = [vid, f'{n / fps:.6f}', f'{fps}', f'{size}x{size}']
    return vid, rows, cues, info


# ====================================================================== SSv2
def plan_sthv2_video(seed, k, label, cfg):
    rng = np.random.default_rng([seed, 3, k])
    size = cfg['sthv2_size']
    sc = size / 64.0
    (dx, dy), pose = STHV2_CLASSES[label][1], STHV2_CLASSES[label][2]
    T = int(rng.integers(16, 25))
    r = float(rng.uniform(6.0, 9.0) * sc)
    hw, hh = 1.1 * r, 0.9 * r                       # hand box half width / full height
    # moving region (object + hand above it): x in [cx-hw, cx+hw], y in [cy-r-hh/2, cy+r]
    lo_x, hi_x = hw + 2, size - 1 - hw - 2
    lo_y, hi_y = r + hh * 0.5 + 2, size - 1 - r - 2
    if dx:
        lo, hi = lo_x, hi_x
    else:
        lo, hi = lo_y, hi_y
    v = float(rng.uniform(0.35, 0.6) * size / (T - 1))
    v = min(v, (hi - lo) / (T - 1))
    travel = v * (T - 1)
    # (max/min: v * (T - 1) can exceed hi - lo by a rounding error when v was clipped)
    along0 = float(rng.uniform(lo, max(lo, hi - travel))) if dx + dy > 0 else float(
        rng.uniform(min(hi, lo + travel), hi))
    if dx:
        x0, y0 = along0, float(rng.uniform(lo_y, hi_y))
    else:
        x0, y0 = float(rng.uniform(lo_x, hi_x)), along0
    objs = rng.permutation(len(STHV2_OBJECTS))
    second = bool(rng.random() < 0.5)
    n_drop = int(rng.integers(1, 4)) if (rng.random() < 0.35 or k == 0) else 0
    drop_frames = sorted(int(x) for x in rng.choice(np.arange(2, T), n_drop, replace=False))
    hand_missing = sorted(int(x) for x in rng.choice(np.arange(1, T + 1), int(
        rng.integers(1, 3)), replace=False)) if rng.random() < 0.3 else []
    return dict(
        T=T, r=r, hw=hw, hh=hh, v=v, x0=x0, y0=y0, dir=(dx, dy), pose=pose,
        ambiguous_pose=bool(rng.random() < 0.15), obj=int(objs[0]),
        obj2=int(objs[1]) if second else None,
        obj2_pos=(float(rng.uniform(0.15, 0.85) * size), float(rng.uniform(0.15, 0.85) * size)),
        obj2_r=float(rng.uniform(4.0, 7.0) * sc),
        obj_col_jit=rng.uniform(-20, 20, 3).astype(np.float32),
        skin=np.array([120, 160, 215], np.float32) + rng.uniform(-15, 15, 3).astype(
            np.float32),
        jitter=(rng.standard_normal((T, 2)) * 0.6 * sc).astype(np.float32),
        box_jitter=rng.uniform(-0.7, 0.7, (T, 3, 4)),
        drop_frames=drop_frames, hand_missing=hand_missing,
        flow_degraded=bool(rng.random() < 0.10),
    )


def render_sthv2_video(job):
    seed, k, vid, label, cfg, root = job
    cv2.setNumThreads(1)
    pl = plan_sthv2_video(seed, k, label, cfg)
    rng = np.random.default_rng([seed, 4, k])
    size, T, r = cfg['sthv2_size'], pl['T'], pl['r']
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    dx, dy = pl['dir']
    steps = np.arange(T, dtype=np.float32) * pl['v']
    cx = (pl['x0'] + dx * steps).astype(np.float32)
    cy = (pl['y0'] + dy * steps).astype(np.float32)
    jx, jy = cx + pl['jitter'][:, 0], cy + pl['jitter'][:, 1]

    bg = smooth_background(rng, size, size, (110, 140, 160), 30)
    frames = np.empty((T, size, size, 3), np.float32)
    frames[:] = bg
    name0, col0, p0 = STHV2_OBJECTS[pl['obj']]
    names = [name0]
    if pl['obj2'] is not None:
        name1, col1, p1 = STHV2_OBJECTS[pl['obj2']]
        names.append(name1)
        ox, oy = pl['obj2_pos']
        a = superellipse_alpha(xx, yy, [ox], [oy], pl['obj2_r'], p1)
        blend(frames, np.broadcast_to(a, (T, size, size)), col1)
    blend(frames, superellipse_alpha(xx, yy, jx, jy, r, p0),
          np.clip(np.asarray(col0, np.float32) + pl['obj_col_jit'], 0, 255))
    # hand box (same geometry for every class): above the object, overlapping its top half
    hx1, hx2 = jx - pl['hw'], jx + pl['hw']
    hy2 = jy - 0.5 * r + 0.5 * pl['hh']
    hy1 = hy2 - pl['hh']
    if pl['ambiguous_pose']:
        hand = superellipse_alpha(xx, yy, jx, (hy1 + hy2) / 2, 0.8 * pl['hw'], 3.0)
    elif pl['pose'] == 0:       # open palm: flat, fills the hand box
        hand = rect_alpha(xx, yy, hx1, hy1, hx2, hy2)
    else:                       # fist: small round blob in the box centre
        hand = superellipse_alpha(xx, yy, jx, (hy1 + hy2) / 2, 0.55 * pl['hh'], 2.0)
    blend(frames, hand, pl['skin'])
    frames += rng.standard_normal(frames.shape, dtype=np.float32) * 5.0
    frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)

    write_sthv2_rgb(root, vid, frames, cfg['sthv2_fps'])

    # flow (denseflow layout): flow i = frame i -> i + 1, union of object + hand regions
    d = np.stack([np.diff(cx), np.diff(cy)], 1).astype(np.float32)        # [T-1, 2]
    x1, x2 = cx[:-1] - pl['hw'], cx[:-1] + pl['hw']
    y1 = cy[:-1] - 0.5 * r - 0.5 * pl['hh']
    y2 = cy[:-1] + r
    region = rect_alpha(xx, yy, x1, y1, x2, y2)
    gain, sigma = (0.3, 2.0) if pl['flow_degraded'] else (1.0, 0.7)
    flow = rng.standard_normal((T - 1, size, size, 2), dtype=np.float32) * 0.5
    flow += region[..., None] * (d[:, None, None, :] * gain + sigma * rng.standard_normal(
        (T - 1, size, size, 2), dtype=np.float32))
    write_sthv2_flow(root, vid, flow)

    # depth (one channel, near = dark): background far, object nearer, hand nearest; its own
    # random stream, so the other modalities are unchanged by it
    drng = np.random.default_rng([seed, 6, k])
    obj_a = superellipse_alpha(xx, yy, jx, jy, r, p0)
    depth = np.full((T, size, size), 200.0, np.float32) - 80.0 * obj_a
    depth = depth * (1.0 - hand) + 70.0 * hand
    depth += drng.standard_normal(depth.shape, dtype=np.float32) * 6.0
    ddir = osp.join(root, 'depth', vid)
    os.makedirs(ddir, exist_ok=True)
    write_jpgs(np.clip(depth + 0.5, 0, 255).astype(np.uint8), osp.join(ddir, '{:05d}.png'))

    # Something-Else boxes (pixels of the rendered frame)
    def bx(x1_, y1_, x2_, y2_, jit):
        c = np.clip(np.array([x1_, y1_, x2_, y2_]) + jit, 0, size)
        return {'x1': round(float(c[0]), 3), 'y1': round(float(c[1]), 3),
                'x2': round(float(c[2]), 3), 'y2': round(float(c[3]), 3)}
    ann = []
    for t in range(1, T + 1):
        if t in pl['drop_frames']:
            continue
        i = t - 1
        bj = pl['box_jitter'][i]
        labels = [{'box2d': bx(cx[i] - r, cy[i] - r, cx[i] + r, cy[i] + r, bj[0]),
                   'category': name0, 'standard_category': '0000',
                   'gt_annotation': 'object 0'}]
        if pl['obj2'] is not None:
            ox, oy = pl['obj2_pos']
            r2 = pl['obj2_r']
            labels.append({'box2d': bx(ox - r2, oy - r2, ox + r2, oy + r2, bj[1]),
                           'category': names[1], 'standard_category': '0001',
                           'gt_annotation': 'object 1'})
        if t not in pl['hand_missing']:
            labels.append({'box2d': bx(cx[i] - pl['hw'], cy[i] - 0.5 * r - 0.5 * pl['hh'],
                                       cx[i] + pl['hw'], cy[i] - 0.5 * r + 0.5 * pl['hh'],
                                       bj[2]),
                           'category': 'hand', 'standard_category': 'hand',
                           'gt_annotation': 'object hand'})
        ann.append({'name': f'{vid}/{t:04d}.jpg', 'labels': labels,
                    'gt_placeholders': names, 'nr_instances': len(names) + 1})
    cues = dict(id=vid, frames=T, ambiguous_pose=pl['ambiguous_pose'],
                flow_degraded=pl['flow_degraded'], frames_without_boxes=pl['drop_frames'],
                frames_without_hand=pl['hand_missing'])
    return vid, label, name0, ann, cues


# ====================================================================== driver
def _prepare_dir(path):
    if osp.isdir(path) and os.listdir(path):
        if not osp.isfile(osp.join(path, MARKER)):
            raise FileExistsError(f'{path} exists, is not empty and was not made by this tool; '
                                  'refusing to overwrite it')
        shutil.rmtree(path)
    os.makedirs(path, exist_ok=True)
    write_text(osp.join(path, MARKER), 'generated by tools/data/generate_toy_dataset.py\n')


def _map(fn, jobs, workers, desc):
    if workers > 1 and len(jobs) > 1:
        with Pool(workers) as pool:
            return list(tqdm(pool.imap(fn, jobs), total=len(jobs), desc=desc, leave=False))
    return [fn(j) for j in tqdm(jobs, desc=desc, leave=False)]


def write_epic_annotations(root, results, split_of):
    """The EPIC-100 annotation files of ``<root>/annotations/``: train / validation segments,
    verb and noun classes, video info. ``results``: one ``(video_id, rows, cues, info)`` per
    video (the renderers' return value); ``split_of``: video_id → ``'train'`` / ``'validation'``.

    Returns:
        tuple[str, dict]: the annotation folder and the segment count of each split.
    """
    ann = osp.join(root, 'annotations')
    os.makedirs(ann, exist_ok=True)
    counts = {}
    for split, fname in (('train', 'EPIC_100_train.csv'),
                         ('validation', 'EPIC_100_validation.csv')):
        rows = [r for vid, rs, _, _ in results if split_of[vid] == split for r in rs]
        write_text(osp.join(ann, fname), csv_text(EPIC_COLUMNS, rows))
        counts[split] = len(rows)
    write_text(osp.join(ann, 'EPIC_100_verb_classes.csv'), csv_text(
        ['id', 'key', 'instances', 'category'],
        [[i, k, str(ins), c] for i, k, ins, c, _ in EPIC_VERBS]))
    write_text(osp.join(ann, 'EPIC_100_noun_classes.csv'), csv_text(
        ['id', 'key', 'instances', 'category'], [list(x[:2]) + [str(x[2]), x[3]]
                                                 for x in EPIC_NOUNS]))
    write_text(osp.join(ann, 'EPIC_100_video_info.csv'), csv_text(
        ['video_id', 'duration', 'fps', 'resolution'], [info for *_, info in results]))
    return ann, counts


def generate_epic(out_dir, seed, cfg, workers=1):
    root = osp.join(out_dir, 'epic')
    _prepare_dir(root)
    jobs, split_of = [], {}
    n_tr, n_va = cfg['epic_train_videos'], cfg['epic_val_videos']
    for p in range(1, cfg['epic_participants'] + 1):
        for v in range(1, n_tr + n_va + 1):
            jobs.append((seed, p, v, cfg, root))
            split_of[f'P{p:02d}_{v:02d}'] = 'train' if v <= n_tr else 'validation'
    results = _map(render_epic_video, jobs, workers, 'epic videos')
    ann, counts = write_epic_annotations(root, results, split_of)
    cues = [c for _, _, cs, _ in results for c in cs]
    write_text(osp.join(ann, 'toy_cues.json'), json.dumps(cues, indent=1) + '\n')
    counts['videos'] = len(results)
    return counts


def generate_sthv2(out_dir, seed, cfg, workers=1):
    root = osp.join(out_dir, 'sthv2')
    _prepare_dir(root)
    os.makedirs(osp.join(root, 'videos'), exist_ok=True)
    n_cls = len(STHV2_CLASSES)
    splits = [('train', cfg['sthv2_train_per_class']), ('validation', cfg['sthv2_val_per_class'])]
    jobs, split_of = [], {}
    k = 0
    order_rng = np.random.default_rng([seed, 5])
    for split, per_class in splits:
        labels = np.repeat(np.arange(n_cls), per_class)
        labels = labels[order_rng.permutation(len(labels))]
        for lab in labels:
            vid = str(1000 + k)
            jobs.append((seed, k, vid, int(lab), cfg, root))
            split_of[vid] = split
            k += 1
    results = _map(render_sthv2_video, jobs, workers, 'sthv2 videos')
    ann_dir = osp.join(root, 'annotations')
    os.makedirs(ann_dir, exist_ok=True)
    labels_json = {t.replace('[', '').replace(']', ''): str(i)
                   for i, (t, _, _) in enumerate(STHV2_CLASSES)}
    write_text(osp.join(ann_dir, 'labels.json'), json.dumps(labels_json, indent=1) + '\n')
    counts = {}
    for split in ('train', 'validation'):
        entries = []
        for vid, label, name, _, _ in results:
            if split_of[vid] != split:
                continue
            tmpl = STHV2_CLASSES[label][0]
            entries.append({'id': vid, 'label': tmpl.replace('[something]', name).lower(),
                            'template': tmpl, 'placeholders': [name]})
        write_text(osp.join(ann_dir, f'{split}.json'), json.dumps(entries) + '\n')
        counts[split] = len(entries)
    boxes = {vid: ann for vid, _, _, ann, _ in results}
    write_text(osp.join(ann_dir, 'annotations.json'), json.dumps(boxes) + '\n')
    write_text(osp.join(ann_dir, 'toy_cues.json'),
               json.dumps([c for *_, c in results], indent=1) + '\n')
    counts['frames_without_boxes'] = sum(len(c['frames_without_boxes']) for *_, c in results)
    return counts


README = """Synthetic multimodal toy datasets for mmdistill_plugin
=====================================================

Generated by:  python tools/data/generate_toy_dataset.py {args}
(generator version {version}; the same seed and sizes give byte-identical annotation files,
JPEG frames, flow and wav files). Everything here is synthetic: no real data is included.

Sizes: {sizes}

epic/   EPIC-KITCHENS-100 layout (what EpicKitchens100Dataset reads)
  <Pxx>/rgb_frames/<Pxx_yy>/frame_{{:010d}}.jpg        RGB, {fps} fps, 1-based, {esize}x{esize}
  <Pxx>/flow_frames/<Pxx_yy>/{{u,v}}/frame_{{:010d}}.jpg flow at half rate: flow j = RGB 2j-1 -> 2j+1
                                                    quantised q = round((f + 20) * 255 / 40)
  <Pxx>/audio/<Pxx_yy>.wav                           16 kHz mono int16, whole video
  annotations/EPIC_100_{{train,validation}}.csv       official columns and formats
  annotations/EPIC_100_{{verb,noun}}_classes.csv      id,key,instances,category (4 rows each)
  annotations/EPIC_100_video_info.csv                video_id,duration,fps,resolution
  annotations/toy_cues.json                          per segment: which cues were corrupted
  Validation videos differ from training videos (same participants).

  Label encoding (noun = 2 * colour_bit + shape_bit; verbs push/pull/lift/lower):
    verb   = motion direction of the object (right/left/up/down).
             flow: strong (object-region flow = displacement; 15 % of segments weak + noisy);
             rgb: only via position change across frames, with per-frame jitter (weak).
    noun colour bit (tomato/sponge warm hue, plate/board cool hue):
             rgb colour (10 % of segments grey); audio +4 semitone pitch offset with
             +-3 semitone jitter (~83 % separable).
    noun shape bit (round tomato/plate, square sponge/board):
             rgb shape (35 % of segments ambiguous); audio tone 300 Hz vs 1200 Hz
             (20 % of segments: tone replaced by a noise burst).
    Clutter: static blobs of every colour/shape, pixel noise, flicker, background hum/noise.
    => rgb+flow+audio determine (verb, noun) almost always; each single modality does not.

sthv2/  Something-Something-V2 + Something-Else layout
  videos/<id>.mp4                   mp4v, {sfps} fps, {ssize}x{ssize}, 16-24 frames
  frames/<id>/{{:04d}}.jpg            the same frames as JPEG (Something-Else layout, 1-based)
  flow/<id>/{{x,y}}_{{:05d}}.jpg        denseflow layout: flow i = frame i -> i+1, bound 20
  depth/<id>/{{:05d}}.png                one-channel depth (near = dark): object nearer than the
                                       background, hand nearest (shape = hand pose)
  annotations/labels.json           template ("something", no brackets) -> index as string
  annotations/{{train,validation}}.json  [{{id, label, template, placeholders}}] as official
  annotations/annotations.json      Something-Else boxes: id -> [{{name: "<id>/<t:04d>.jpg",
                                    labels: [{{box2d: {{x1,y1,x2,y2}} pixels, category,
                                    standard_category "0000"/"0001"/"hand", gt_annotation
                                    "object 0"/"object 1"/"object hand"}}], gt_placeholders,
                                    nr_instances}}]; some frames have no entry (no boxes) and
                                    some frames lack the hand box.
  annotations/toy_cues.json         per video: corrupted cues, frames without boxes

  Label encoding (6 classes: Pushing/Pulling [something] left->right / right->left,
  Moving [something] up / down):
    direction: box trajectory, flow (10 % of videos weak), rgb (weak, across frames).
    push vs pull: only the hand pose drawn in rgb (open palm = push, fist = pull; 15 %
             ambiguous). Hand/object boxes and flow regions have the same geometry for both.
    object identity (placeholder name / colour) is irrelevant to the label.

Simulating missing modalities / files (the toy itself is complete):
  * delete or rename files, e.g.  rm epic/P01/audio/P01_03.wav
    or  rm -r epic/P02/flow_frames/P02_03  or  rm -r sthv2/flow/1003
    (loaders built with allow_missing=True then report modality_present=False);
  * truncate a file to make it undecodable:  : > epic/P01/audio/P01_03.wav
  * at test time without touching files: MissingModalities(drop=[...]) / (p=...).
  Re-run the generator to restore a clean copy (it only replaces folders it made).
"""


def generate(out_dir='data/toy', seed=0, scale='default', workers=None, datasets=('epic', 'sthv2'),
             verbose=True, **overrides):
    """Generate the toy datasets; returns a dict of counts. ``overrides`` change SCALES keys."""
    if scale not in SCALES:
        raise ValueError(f'unknown scale {scale!r}; choose one of {list(SCALES)}')
    cfg = dict(SCALES[scale], fps=30, audio_sr=16000, sthv2_fps=12)
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    if workers is None:
        workers = min(2, os.cpu_count() or 1)
    os.makedirs(out_dir, exist_ok=True)
    t0 = time.time()
    summary = {}
    if 'epic' in datasets:
        summary['epic'] = generate_epic(out_dir, seed, cfg, workers)
    if 'sthv2' in datasets:
        summary['sthv2'] = generate_sthv2(out_dir, seed, cfg, workers)
    args = f'--out-dir {out_dir} --seed {seed} --scale {scale}' + ''.join(
        f' --{k.replace("_", "-")} {v}' for k, v in sorted(overrides.items()) if v is not None)
    write_text(osp.join(out_dir, 'README.txt'), README.format(
        args=args, version=GENERATOR_VERSION, sizes=json.dumps(summary), fps=cfg['fps'],
        esize=cfg['epic_size'], sfps=cfg['sthv2_fps'], ssize=cfg['sthv2_size']))
    summary['seconds'] = round(time.time() - t0, 2)
    if verbose:
        for name in ('epic', 'sthv2'):
            if name in summary:
                print(f'{name}: ' + ', '.join(f'{k}={v}' for k, v in summary[name].items()))
        print(f'written to {out_dir} in {summary["seconds"]:.1f} s')
    return summary


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('--out-dir', default='data/toy')
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--scale', default='default', choices=list(SCALES),
                   help='preset sizes (tiny: for unit tests, a few seconds)')
    p.add_argument('--datasets', nargs='+', default=['epic', 'sthv2'], choices=['epic', 'sthv2'])
    p.add_argument('--num-workers', type=int, default=None, help='processes (default: 2)')
    g = p.add_argument_group('size overrides (default: from --scale)')
    g.add_argument('--epic-participants', type=int, help='P01..Pnn')
    g.add_argument('--epic-train-videos', type=int, help='training videos per participant')
    g.add_argument('--epic-val-videos', type=int, help='validation videos per participant')
    g.add_argument('--epic-segments', type=int, help='action segments per video')
    g.add_argument('--epic-size', type=int, help='EPIC frame side in pixels')
    g.add_argument('--fps', type=int, help='EPIC RGB frame rate (30)')
    g.add_argument('--sthv2-train-per-class', type=int)
    g.add_argument('--sthv2-val-per-class', type=int)
    g.add_argument('--sthv2-size', type=int, help='SSv2 frame side in pixels')
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    over = {k: getattr(a, k) for k in ('epic_participants', 'epic_train_videos',
                                       'epic_val_videos', 'epic_segments', 'epic_size', 'fps',
                                       'sthv2_train_per_class', 'sthv2_val_per_class',
                                       'sthv2_size')}
    try:
        generate(a.out_dir, a.seed, a.scale, a.num_workers, tuple(a.datasets), **over)
    except FileExistsError as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
