#!/usr/bin/env python
"""KARMMA benchmark: EPIC-KITCHENS-100-format data whose V, F, A carry designed, complementary cues.

The general toy (``tools/data/generate_toy_dataset.py``) lets flow alone give the verb of almost
every clip, so a model trained without modality dropout learns the verb from flow only, and its
cues cannot be switched off one by one. Here every cue of every segment is switched on or off
independently, with a probability (a *knob*); a cue that is off is visibly absent (never a wrong
cue), so the information of each modality combination is known in advance
(:func:`oracle_accuracy`):

==========  ======================================================  =========================
label       cue (present in a fraction of the segments)             knob (default)
==========  ======================================================  =========================
verb        F: the object region's flow = its motion, plus a        ``flow_verb`` (0.8)
            camera drift of 30 % of it (otherwise: noise only)
verb        V: a hand marker beside the object, on the side it is   ``rgb_verb`` (0.8)
            pushed from (otherwise: no hand)
verb (1/2)  A: horizontal verbs scrape (band noise 2–5 kHz),        ``audio_verb`` (0.5)
            vertical verbs knock (4 clicks) (otherwise: silence)
noun        V: colour bit (warm / cool hue; otherwise grey)         ``rgb_colour`` (0.85)
noun        V: shape bit (round and small / square and large;       ``rgb_shape`` (0.85)
            otherwise in-between in shape and size)
noun        A: shape bit (300 / 1200 Hz tone ± 3 semitones;         ``audio_shape`` (0.75)
            otherwise a noise burst)
==========  ======================================================  =========================

Verbs are the toy's push / pull / lift / lower (motion right / left / up / down), nouns the toy's
tomato / sponge / plate / board (``noun = 2 · colour_bit + shape_bit``). The object does not
move in RGB (it jitters in place): V's verb information is the hand marker only, so every
modality's share is set by the knobs. Flow carries no noun, audio half a verb and half a noun:
the modalities' strength follows KARMMA Tab. 1 (V > F > A alone; all three best), no single
modality solves the task, and segments whose flow is off need V (or A) for the verb, segments
whose shape is ambiguous need A for the noun.

Design version 2 (2026-12-06) raised ``rgb_verb`` 0.6 → 0.8 and ``rgb_shape`` 0.65 → 0.85,
chosen on the two baselines only (never on KARMMA_S; docs/benchmarks.md ``## KARMMA``): on
version 1 the Baseline's action top-1 spread 5.8 points over 5 seeds and a model trained with
modality dropout left its weakest cue's factor (the shape bit) at chance on 4 of 5 seeds; on
version 2 the Baseline's spread is 2.0 (seeds 0–4) and Baseline w/ δ's noun top-1 is 75–87 % on 3
of 5 seeds (55–58 % on the other two: the shape bit still at chance). V stays short of solving
the task (best possible action top-1 from V alone 66 %, V+F+A 87 %).

``plant_label`` (default 0; the suite's positive control uses 1) paints the background of that
fraction of the segments in one of 16 colours, one per action (verb, noun): V alone then gives the
label.

``label_noise`` (default 0) replaces the verb or the noun of that fraction of the *training*
segments with another class in the annotation CSV (the rendering keeps the true class; the
validation split is always clean), as a knob for studying noisy narrations.

Written files are the layout of the toy EPIC data (``configs/_base_/datasets/toy_epic.py`` reads
them unchanged): RGB frames, half-rate u/v flow JPEGs, a 16 kHz wav per video, the official
annotation CSVs, and ``annotations/toy_cues.json`` (per segment: which cue is present).

Usage::

    python benchmarks/reproduce/designs/karmma.py --out-dir work_dirs/karmma_data --seed 0
    python benchmarks/reproduce/designs/karmma.py --out-dir /tmp/k --flow-verb 0.5   # a knob
"""
import argparse
import itertools
import json
import os
import os.path as osp
import sys
import time

import cv2
import numpy as np

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
sys.path.insert(0, osp.join(REPO, 'tools', 'data'))
from generate_toy_dataset import (EPIC_NOUNS, EPIC_VERBS, _map, _prepare_dir, blend,  # noqa: E402
                                  fmt_ts, hsv_to_bgr, parse_ts, rect_alpha, smooth_background,
                                  superellipse_alpha, write_epic_annotations, write_epic_flow,
                                  write_epic_rgb, write_text, write_wav)

DESIGN_VERSION = 2
#: Probability that a segment carries each cue (see the module docstring).
KNOBS = dict(flow_verb=0.8, rgb_verb=0.8, audio_verb=0.5, rgb_colour=0.85, rgb_shape=0.85,
             audio_shape=0.75, label_noise=0.0, plant_label=0.0)
#: Sizes: participants P01.., training / validation videos per participant, segments per video,
#: frame side (px; the toy configs resize to 32 anyway), RGB frame rate, audio rate.
SIZES = dict(participants=4, train_videos=2, val_videos=1, segments=32, size=32, fps=30,
             audio_sr=16000)
MODALITY_CUES = dict(rgb=('rgb_verb', 'rgb_colour', 'rgb_shape'), flow=('flow_verb', ),
                     audio=('audio_verb', 'audio_shape'))


def check_knobs(knobs):
    """``KNOBS`` updated with ``knobs``; raises ValueError naming an unknown knob or a value
    outside [0, 1]."""
    out = dict(KNOBS)
    for k, v in (knobs or {}).items():
        if k not in KNOBS:
            raise ValueError(f'unknown KARMMA design knob {k!r}; knobs are {sorted(KNOBS)}')
        if not 0.0 <= float(v) <= 1.0:
            raise ValueError(f'KARMMA design knob {k}={v}: a probability in [0, 1] is needed')
        out[k] = float(v)
    return out


# ------------------------------------------------------------------------------ plan
def plan_video(seed, p_idx, v_idx, knobs, sizes, train):
    """Every random choice of one video: its segments (labels, cues, geometry)."""
    rng = np.random.default_rng([seed, 11, p_idx, v_idx])
    plant_rng = np.random.default_rng([seed, 13, p_idx, v_idx])  # knob off: data unchanged
    fps, size, n_seg = sizes['fps'], sizes['size'], sizes['segments']
    combos = np.array([(v, n) for v in range(4) for n in range(4)])
    order = np.concatenate([rng.permutation(len(combos))
                            for _ in range(-(-n_seg // len(combos)))])[:n_seg]
    sc = size / 32.0
    segs, t = [], int(round(rng.uniform(0.3, 0.6) * fps))
    for k in range(n_seg):
        verb, noun = (int(x) for x in combos[order[k]])
        cues = {c: bool(rng.random() < knobs[c]) for c in
                ('flow_verb', 'rgb_verb', 'audio_verb', 'rgb_colour', 'rgb_shape',
                 'audio_shape')}
        planted = bool(plant_rng.random() < knobs['plant_label'])
        colour_bit, shape_bit = noun // 2, noun % 2
        # shape bit: round and small vs square and large; cue off: in between in both
        u = float(rng.uniform(0.0, 1.0))
        if cues['rgb_shape']:
            r = (4.5 + u if shape_bit == 0 else 7.0 + u) * sc
        else:
            r = (5.8 + 0.8 * u) * sc
        margin = r + 5.0 * sc                             # the hand marker fits
        hue = rng.uniform(0, 25) if colour_bit == 0 else rng.uniform(195, 235)
        sat = rng.uniform(0.7, 1.0) if cues['rgb_colour'] else 0.0
        label_verb, label_noun = verb, noun
        noisy = ''
        if train and rng.random() < knobs['label_noise']:
            if rng.random() < 0.5:
                label_verb, noisy = int((verb + rng.integers(1, 4)) % 4), 'verb'
            else:
                label_noun, noisy = int((noun + rng.integers(1, 4)) % 4), 'noun'
        segs.append(dict(
            verb=verb, noun=noun, label_verb=label_verb, label_noun=label_noun, noisy=noisy,
            cues=cues, planted=planted, start=t, length=int(round(rng.uniform(1.3, 2.0) * fps)),
            cx=float(rng.uniform(margin, size - margin)),
            cy=float(rng.uniform(margin, size - margin)), r=r,
            p=(2.0 if shape_bit == 0 else 6.0) if cues['rgb_shape'] else 3.3,
            colour=hsv_to_bgr(hue, sat, rng.uniform(0.6, 0.95)).tolist(),
            speed=float(rng.uniform(1.0, 1.6) * sc),      # px per flow frame (2 RGB frames)
            pitch_jitter=float(rng.uniform(-3.0, 3.0)), tone_amp=float(rng.uniform(0.2, 0.3)),
            narr_offset=float(rng.uniform(0.0, 0.5))))
        t += segs[-1]['length'] + int(round(rng.uniform(0.3, 0.6) * fps))
    return dict(segments=segs, n_frames=t + (t % 2))


# ------------------------------------------------------------------------------ render
def planted_colour(verb, noun):
    """BGR background of a planted segment: hue from the verb, saturation / value from the
    noun (16 distinct colours)."""
    sat, val = [(1.0, 0.9), (1.0, 0.45), (0.4, 0.9), (0.4, 0.45)][noun]
    return hsv_to_bgr(90.0 * verb + 20.0, sat, val)


def render_video(job):
    """Worker: write one video's RGB frames, u/v flow and wav; return its CSV rows and cues."""
    seed, p_idx, v_idx, knobs, sizes, train, root = job
    cv2.setNumThreads(1)
    plan = plan_video(seed, p_idx, v_idx, knobs, sizes, train)
    rng = np.random.default_rng([seed, 12, p_idx, v_idx])
    pid, vid = f'P{p_idx:02d}', f'P{p_idx:02d}_{v_idx:02d}'
    fps, size, sr = sizes['fps'], sizes['size'], sizes['audio_sr']
    n, segs = plan['n_frames'], plan['segments']
    sc = size / 32.0
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)

    # ---- RGB: static background with grey clutter; the object jitters in place; hand marker
    bg = smooth_background(rng, size, size, (150, 170, 190), 30)
    for _ in range(int(rng.integers(2, 4))):
        col = hsv_to_bgr(rng.uniform(0, 360), rng.uniform(0.0, 0.12), rng.uniform(0.4, 0.9))
        a = superellipse_alpha(xx, yy, [rng.uniform(0, size)], [rng.uniform(0, size)],
                               rng.uniform(2.0, 3.5) * sc, float(rng.choice([2.0, 6.0])))[0]
        bg = bg * (1 - a[..., None]) + a[..., None] * col
    frames = np.empty((n, size, size, 3), np.float32)
    frames[:] = bg
    frames *= (1.0 + 0.03 * rng.standard_normal(n).astype(np.float32))[:, None, None, None]
    hand = np.array([40, 60, 100], np.float32)      # dark: visible on the light background
    for s in segs:
        st, L = s['start'], s['length']
        if s['planted']:    # positive control: the background's colour is the action label
            frames[st:st + L] = planted_colour(s['verb'], s['noun'])
        jit = rng.standard_normal((L, 2)).astype(np.float32) * 0.4 * sc
        cx, cy = s['cx'] + jit[:, 0], s['cy'] + jit[:, 1]
        blend(frames[st:st + L], superellipse_alpha(xx, yy, cx, cy, s['r'], s['p']),
              s['colour'])
        if s['cues']['rgb_verb']:
            dx, dy = EPIC_VERBS[s['verb']][4]          # the hand pushes from behind
            hx, hy = cx - dx * (s['r'] + 2.5 * sc), cy - dy * (s['r'] + 2.5 * sc)
            blend(frames[st:st + L], superellipse_alpha(xx, yy, hx, hy, 3.0 * sc, 2.0), hand)
    frames += rng.standard_normal(frames.shape, dtype=np.float32) * 5.0
    frames = np.clip(frames + 0.5, 0, 255).astype(np.uint8)
    write_epic_rgb(root, pid, vid, frames)
    del frames

    # ---- flow at half rate (flow j = RGB 2j-1 -> 2j+1): motion of the object region
    n_flow = n // 2
    flow = rng.standard_normal((n_flow, size, size, 2), dtype=np.float32) * 0.5
    for s in segs:
        j0, j1 = s['start'] // 2, min(n_flow, (s['start'] + s['length']) // 2)
        if j1 <= j0:
            continue
        if s['cues']['flow_verb']:
            d = np.array(EPIC_VERBS[s['verb']][4], np.float32) * s['speed']
        else:
            d = np.zeros(2, np.float32)
        rr = s['r'] + 1.5 * sc
        box = rect_alpha(xx, yy, [s['cx'] - rr], [s['cy'] - rr], [s['cx'] + rr],
                         [s['cy'] + rr])[0]
        noise = rng.standard_normal((j1 - j0, size, size, 2), dtype=np.float32) * 0.8
        flow[j0:j1] += box[None, ..., None] * (d + noise) + 0.3 * d
    write_epic_flow(root, pid, vid, flow)
    del flow

    # ---- audio: background noise + hum; per segment a tone (shape), scrape / knock (verb)
    n_samp = int(round(n / fps * sr))
    tt = np.arange(n_samp, dtype=np.float64) / sr
    audio = rng.standard_normal(n_samp).astype(np.float32) * 0.02
    audio += (0.02 * np.sin(2 * np.pi * 100.0 * tt)).astype(np.float32)
    rows, cues = [], []
    for i, s in enumerate(segs):
        sf, ef = s['start'] + 1, s['start'] + s['length']
        st_ts, en_ts = fmt_ts((sf - 1) / fps), fmt_ts(ef / fps)
        a0 = int(round(parse_ts(st_ts) * sr))
        a1 = min(n_samp, int(round(parse_ts(en_ts) * sr)))
        m = a1 - a0
        env = np.minimum(1.0, np.minimum(np.arange(m), np.arange(m)[::-1]) / (0.01 * sr))
        if s['cues']['audio_shape']:
            f0 = (300.0 if s['noun'] % 2 == 0 else 1200.0) * 2 ** (s['pitch_jitter'] / 12.0)
            sig = s['tone_amp'] * np.sin(2 * np.pi * f0 * tt[a0:a1])
        else:
            sig = rng.standard_normal(m) * 0.08
        if s['cues']['audio_verb']:
            if EPIC_VERBS[s['verb']][4][1] == 0:     # push / pull: a scrape, band noise
                spec = np.fft.rfft(rng.standard_normal(m))
                f = np.fft.rfftfreq(m, 1.0 / sr)
                spec[(f < 2000) | (f > 5000)] = 0
                band = np.fft.irfft(spec, m)
                sig = sig + 0.25 * band / (band.std() + 1e-8)
            else:                                    # lift / lower: knocks every 0.25 s
                clicks = np.zeros(m)
                for c0 in range(int(0.1 * sr), m - int(0.03 * sr), int(0.25 * sr)):
                    w = int(0.02 * sr)
                    decay = np.exp(-np.arange(w) / (0.004 * sr))
                    clicks[c0:c0 + w] += rng.standard_normal(w) * decay
                sig = sig + 0.6 * clicks
        audio[a0:a1] += (sig * env).astype(np.float32)
        verb_key, noun_key = EPIC_VERBS[s['label_verb']][1], EPIC_NOUNS[s['label_noun']][1]
        rows.append([f'{vid}_{i}', pid, vid,
                     fmt_ts((sf - 1) / fps + s['narr_offset'], 3), st_ts, en_ts, sf, ef,
                     f'{verb_key} {noun_key}', verb_key, s['label_verb'], noun_key,
                     s['label_noun'], str([noun_key]), str([s['label_noun']])])
        cues.append(dict(narration_id=f'{vid}_{i}', verb=s['verb'], noun=s['noun'],
                         noisy_label=s['noisy'], plant_label=s['planted'], **s['cues']))
    adir = osp.join(root, pid, 'audio')
    os.makedirs(adir, exist_ok=True)
    write_wav(osp.join(adir, f'{vid}.wav'), np.clip(audio, -1, 1), sr)
    return vid, rows, cues, [vid, f'{n / fps:.6f}', f'{fps}', f'{size}x{size}']


# ------------------------------------------------------------------------------ oracle
def _combo_acc(cue_rows, combo):
    """Expected verb / noun / action top-1 of the Bayes classifier that sees the cues of the
    modalities in ``combo`` (a cue that is off leaves the label uniform over what it would
    have told)."""
    on = lambda r, c: r[c] and c in {x for m in combo for x in MODALITY_CUES[m]}  # noqa: E731
    verb = noun = action = 0.0
    for r in cue_rows:
        if r.get('plant_label') and 'rgb' in combo:
            verb, noun, action = verb + 1, noun + 1, action + 1
            continue
        pv = 1.0 if (on(r, 'flow_verb') or on(r, 'rgb_verb')) else (
            0.5 if on(r, 'audio_verb') else 0.25)
        p_colour = 1.0 if on(r, 'rgb_colour') else 0.5
        p_shape = 1.0 if (on(r, 'rgb_shape') or on(r, 'audio_shape')) else 0.5
        verb += pv
        noun += p_colour * p_shape
        action += pv * p_colour * p_shape
    n = max(1, len(cue_rows))
    return dict(verb_top1=verb / n, noun_top1=noun / n, action_top1=action / n)


def oracle_accuracy(cues_json):
    """The Bayes (best possible) top-1 of every modality combination on a generated split.

    Args:
        cues_json (str): ``annotations/toy_cues.json`` of a generated dataset.

    Returns:
        dict: combination label (``'V+F+A'``, ``'V'``, ...) -> dict(verb_top1, noun_top1,
        action_top1), over the validation segments.
    """
    with open(cues_json) as f:
        rows = [r for r in json.load(f) if r.get('split') == 'validation']
    letters = dict(rgb='V', flow='F', audio='A')
    out = {}
    for size in (3, 2, 1):
        for combo in itertools.combinations(('rgb', 'flow', 'audio'), size):
            out['+'.join(letters[m] for m in combo)] = _combo_acc(rows, combo)
    return out


# ------------------------------------------------------------------------------ driver
def generate(out_dir, seed=0, knobs=None, workers=1, **sizes):
    """Write the KARMMA benchmark's EPIC-format dataset to ``<out_dir>/epic``.

    Args:
        out_dir (str): parent folder (``epic/`` is created, or replaced when this tool made it).
        seed (int): the data seed (the same seed and knobs give byte-identical files).
        knobs (dict): cue probabilities, see :data:`KNOBS`.
        workers (int): rendering processes.
        **sizes: overrides of :data:`SIZES`.

    Returns:
        dict: counts (train, validation, videos) and the oracle accuracies of the validation
        split (``oracle``).

    Raises:
        ValueError: an unknown knob or size, or a knob outside [0, 1].
        FileExistsError: ``<out_dir>/epic`` exists and was not made by a generator.
    """
    knobs = check_knobs(knobs)
    unknown = set(sizes) - set(SIZES)
    if unknown:
        raise ValueError(f'unknown KARMMA design sizes {sorted(unknown)}; sizes are '
                         f'{sorted(SIZES)}')
    sz = dict(SIZES, **{k: int(v) for k, v in sizes.items() if v is not None})
    root = osp.join(out_dir, 'epic')
    _prepare_dir(root)
    jobs, split_of = [], {}
    for p in range(1, sz['participants'] + 1):
        for v in range(1, sz['train_videos'] + sz['val_videos'] + 1):
            train = v <= sz['train_videos']
            jobs.append((seed, p, v, knobs, sz, train, root))
            split_of[f'P{p:02d}_{v:02d}'] = 'train' if train else 'validation'
    results = _map(render_video, jobs, workers, 'karmma videos')
    ann, counts = write_epic_annotations(root, results, split_of)
    cues = [dict(c, split=split_of[vid]) for vid, _, cs, _ in results for c in cs]
    cues_path = osp.join(ann, 'toy_cues.json')
    write_text(cues_path, json.dumps(cues, indent=1) + '\n')
    counts['videos'] = len(results)
    counts['oracle'] = oracle_accuracy(cues_path)
    write_text(osp.join(out_dir, 'README.txt'),
               f'KARMMA benchmark data (benchmarks/reproduce/designs/karmma.py, design version '
               f'{DESIGN_VERSION}), seed {seed}\nknobs: {json.dumps(knobs)}\nsizes: '
               f'{json.dumps(sz)}\ncounts: {json.dumps(counts)}\n')
    return counts


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--seed', type=int, default=0)
    p.add_argument('--num-workers', type=int, default=1)
    for k, v in KNOBS.items():
        p.add_argument('--' + k.replace('_', '-'), type=float, default=v)
    for k in SIZES:
        p.add_argument('--' + k.replace('_', '-'), type=int, default=None)
    return p.parse_args(argv)


def main(argv=None):
    a = parse_args(argv)
    t0 = time.time()
    counts = generate(a.out_dir, a.seed, {k: getattr(a, k) for k in KNOBS}, a.num_workers,
                      **{k: getattr(a, k) for k in SIZES})
    print(json.dumps(counts, indent=1))
    print(f'written to {a.out_dir}/epic in {time.time() - t0:.1f} s')


if __name__ == '__main__':
    main()
