# Copyright (c) mmdistill contributors.
"""Video cache benchmark: ``LoadRGBFrames`` time per clip over epochs, without and with
``video_cache_mb``.

The reproduction suites and toy demos train for 20-90 epochs on a few hundred small mp4 clips;
decoding them again each epoch is about half of an RGB training run's time on a CPU. The script
writes ``--videos`` clips with the toy generator's writer (64×64, 18 frames, mp4v)
under ``--tmp-dir`` (not the repository), then reads 8 frames of each (MMAction2's
``UniformSample`` indices of a training clip, a new draw each epoch) for ``--epochs`` epochs,
once with a fresh ``LoadRGBFrames`` and once with ``LoadRGBFrames(video_cache_mb=...)``, checks
that both give the same frames, and prints the mean ms per clip of the first epoch (the cache
fills) and of the later ones, and the ratio cached / uncached of the later epochs (the target:
well below 1).

Usage::

    python benchmarks/video_cache.py [--videos 240] [--epochs 3]
"""
import argparse
import os
import os.path as osp
import sys
import tempfile
import time

import numpy as np


def write_videos(folder, n, frames=18, size=64, seed=0):
    """``n`` clips (a random texture moving 2 px a frame) written by the toy generator's SSv2
    writer (``<folder>/videos/<k>.mp4``, mp4v, as the toy data); returns their paths."""
    sys.path.insert(0, osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))), 'tools', 'data'))
    import generate_toy_dataset as toy
    rng = np.random.default_rng(seed)
    os.makedirs(osp.join(folder, 'videos'))
    for k in range(n):
        base = rng.integers(0, 256, (size, size, 3), dtype=np.uint8)
        toy.write_sthv2_rgb(folder, str(k), np.stack([np.roll(base, 2 * t, axis=1)
                                                      for t in range(frames)]), 12)
    return [osp.join(folder, 'videos', f'{k}.mp4') for k in range(n)]


def time_epochs(load, paths, epochs, seed=0):
    """ms per clip of each epoch, and the frames of the last epoch (for the equality check)."""
    rng = np.random.default_rng(seed)
    per_epoch, last = [], []
    for _ in range(epochs):
        inds = [np.sort(rng.choice(np.arange(1, 19), 8, replace=False)) for _ in paths]
        t0 = time.perf_counter()
        last = [load(dict(filename=p, frame_inds=i))['rgb'] for p, i in zip(paths, inds)]
        per_epoch.append((time.perf_counter() - t0) / len(paths) * 1e3)
    return per_epoch, last


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--videos', type=int, default=240)
    p.add_argument('--epochs', type=int, default=3)
    p.add_argument('--cache-mb', type=float, default=256)
    p.add_argument('--tmp-dir', default=None)
    a = p.parse_args()
    import mmdistill_plugin  # noqa: F401
    from mmaction.registry import TRANSFORMS
    with tempfile.TemporaryDirectory(dir=a.tmp_dir) as tmp:
        paths = write_videos(tmp, a.videos)
        plain, plain_frames = time_epochs(TRANSFORMS.build(dict(type='LoadRGBFrames')), paths,
                                          a.epochs)
        cached, cached_frames = time_epochs(
            TRANSFORMS.build(dict(type='LoadRGBFrames', video_cache_mb=a.cache_mb)), paths,
            a.epochs)
    same = all(np.array_equal(x, y) for x, y in zip(plain_frames, cached_frames))
    later = slice(1, None)
    ratio = np.mean(cached[later]) / np.mean(plain[later])
    print(f'{a.videos} clips (64x64, 18 frames, mp4v), 8 frames each, {a.epochs} epochs')
    print(f'  no cache:            epoch 1 {plain[0]:.2f} ms/clip, later '
          f'{np.mean(plain[later]):.2f} ms/clip')
    print(f'  video_cache_mb={a.cache_mb:g}: epoch 1 {cached[0]:.2f} ms/clip, later '
          f'{np.mean(cached[later]):.2f} ms/clip')
    print(f'  ratio cached / no cache, later epochs: {ratio:.3f}; same frames: {same}')


if __name__ == '__main__':
    main()
