# Copyright (c) mmdistill contributors.
"""Audio segment loading benchmark: per-sample ``LoadAudioLogMel`` time vs. wav length.

EPIC-KITCHENS-100 keeps one wav per video (up to an hour); each action segment is a few
seconds of it. ``LoadAudioLogMel`` reads and resamples only the segment
(``read_audio_segment``: memory-mapped / seeked read of the samples the resampling filter
needs), so the per-sample time should not depend on the file length.

The script writes two generated wavs under ``--tmp-dir`` (not the repository): 1 minute and
``--long-minutes`` (default 60) minutes of 16-bit noise at ``--sample-rate`` (default 24 kHz,
resampled to the loader's 16 kHz), then times ``--samples`` loads of random segments of
``--segment-seconds`` (default 1..4 s, EPIC-like) from each and prints the mean time per sample
and the ratio long / short (target ≈ 1). ``--whole-file`` also times the previous method
(read + resample the whole file, then cut) once per file, for comparison.

Usage::

    python benchmarks/audio_segment_load.py [--long-minutes 60] [--samples 50] [--whole-file]
"""
import argparse
import os
import os.path as osp
import tempfile
import time
import wave

import numpy as np


def write_wav(path, minutes, sr, seed=0):
    """``minutes`` of 16-bit mono noise, written in one-minute chunks (bounded memory)."""
    rng = np.random.default_rng(seed)
    with wave.open(path, 'wb') as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(sr)
        for _ in range(int(minutes)):
            w.writeframes(rng.integers(-8000, 8000, sr * 60, dtype=np.int16).tobytes())


def time_loads(transform, path, duration, n, seg, seed=0):
    rng = np.random.default_rng(seed)
    starts = rng.uniform(0, duration - seg[1], n)
    lengths = rng.uniform(seg[0], seg[1], n)
    transform(dict(audio_path=path, start_timestamp=0.0, stop_timestamp=1.0))  # warm-up
    t0 = time.perf_counter()
    for s, ln in zip(starts, lengths):
        transform(dict(audio_path=path, start_timestamp=float(s), stop_timestamp=float(s + ln)))
    return (time.perf_counter() - t0) / n


def time_whole(path, target_sr, start, stop):
    from mmdistill_plugin.datasets.transforms.audio_features import resample
    from mmdistill_plugin.datasets.transforms.loading import read_wav
    t0 = time.perf_counter()
    x, sr = read_wav(path)
    y = resample(x, sr, target_sr)
    y[int(round(start * target_sr)):int(round(stop * target_sr))].copy()
    return time.perf_counter() - t0


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--long-minutes', type=int, default=60)
    parser.add_argument('--sample-rate', type=int, default=24000)
    parser.add_argument('--samples', type=int, default=50)
    parser.add_argument('--segment-seconds', type=float, nargs=2, default=(1.0, 4.0))
    parser.add_argument('--tmp-dir', default=tempfile.gettempdir())
    parser.add_argument('--whole-file', action='store_true',
                        help='also time reading + resampling the whole file (old method)')
    args = parser.parse_args()

    import mmdistill_plugin  # noqa: F401
    from mmaction.registry import TRANSFORMS
    transform = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=400, crop='start'))

    os.makedirs(args.tmp_dir, exist_ok=True)
    rows = {}
    paths = []
    try:
        for minutes in (1, args.long_minutes):
            path = osp.join(args.tmp_dir, f'mmdistill_bench_audio_{minutes}min.wav')
            paths.append(path)
            t0 = time.perf_counter()
            write_wav(path, minutes, args.sample_rate)
            print(f'wrote {path} ({osp.getsize(path) / 2**20:.0f} MiB) in '
                  f'{time.perf_counter() - t0:.1f} s')
            per = time_loads(transform, path, minutes * 60.0, args.samples,
                             args.segment_seconds)
            rows[minutes] = dict(per_sample_ms=1e3 * per)
            if args.whole_file:
                rows[minutes]['whole_file_ms'] = 1e3 * time_whole(path, 16000, 30.0, 33.0)
    finally:
        for p in paths:
            if osp.exists(p):
                os.remove(p)
    short, long_ = rows[1], rows[args.long_minutes]
    print(f'\nLoadAudioLogMel, {args.samples} random {args.segment_seconds[0]:g}-'
          f'{args.segment_seconds[1]:g} s segments, {args.sample_rate} Hz -> 16 kHz')
    print(f'{"wav length":>12} {"per sample (ms)":>16}' +
          (f' {"whole-file read (ms)":>22}' if args.whole_file else ''))
    for minutes, r in rows.items():
        print(f'{minutes:>9} min {r["per_sample_ms"]:>16.2f}' +
              (f' {r["whole_file_ms"]:>22.1f}' if args.whole_file else ''))
    print(f'ratio {args.long_minutes} min / 1 min: '
          f'{long_["per_sample_ms"] / short["per_sample_ms"]:.2f} (target ~1)')
    if args.whole_file:
        print(f'whole-file method, ratio {args.long_minutes} min / 1 min: '
              f'{long_["whole_file_ms"] / short["whole_file_ms"]:.1f}')


if __name__ == '__main__':
    main()
