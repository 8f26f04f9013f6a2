#!/usr/bin/env python
"""Extract dense optical flow as quantised x/y grayscale JPEGs (MMAction2 / EPIC layouts).

Flow ``i`` (1-based in file names) is computed between frames ``i`` and ``i + step`` of the
(optionally sub-sampled) input, with TV-L1 (``cv2.optflow.DualTVL1OpticalFlow_create``, the
usual choice of denseflow / EPIC-KITCHENS) when OpenCV's contrib module is available, else
Farneback. Each component is quantised with a symmetric bound ``b`` (default 20 px)::

    q = clip(round((f + b) * 255 / (2 b)), 0, 255)          (uint8)
    f ~= q * 2 b / 255 - b                                     (dequantised, |error| <= b / 255)

so zero flow is 127.5 (stored as 128) and a horizontal flip negates x as ``255 - q``.

Output names follow ``--tmpl`` (``str.format`` with ``axis`` and ``idx``):

* MMAction2 denseflow layout (default): ``{axis}_{idx:05d}.jpg`` with axes ``x y``
  -> ``x_00001.jpg, y_00001.jpg, ...``
* EPIC-KITCHENS layout: ``--tmpl '{axis}/frame_{idx:010d}.jpg' --axes u v --step 2``
  -> ``u/frame_0000000001.jpg, v/frame_0000000001.jpg, ...`` (flow at half the RGB rate:
  flow j covers RGB frames 2j-1 -> 2j+1).

Examples::

    # one video -> <out-dir>/x_00001.jpg ...
    python tools/data/extract_flow.py --input data/sthv2/videos/1000.mp4 --out-dir flow/1000
    # a folder of videos and/or frame folders -> <out-dir>/<name>/... (2 processes)
    python tools/data/extract_flow.py --input data/sthv2/frames --out-dir data/sthv2/flow \
        --num-workers 2 --new-short 128
    # frame folder containing other files too: select the RGB frames with a glob
    python tools/data/extract_flow.py --input imgs --frame-pattern 'img_*.jpg' --out-dir /tmp/f
"""
import argparse
import fnmatch
import os
import os.path as osp
import re
import sys
import warnings
from multiprocessing import Pool
from typing import List, Optional, Sequence

import cv2
import numpy as np
from tqdm import tqdm  # a declared requirement (requirements/runtime.txt)

VIDEO_EXTS = ('.mp4', '.avi', '.webm', '.mkv', '.mov', '.m4v', '.mpg', '.mpeg', '.flv')
IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp')
DEFAULT_TMPL = '{axis}_{idx:05d}.jpg'
EPIC_TMPL = '{axis}/frame_{idx:010d}.jpg'
ALGORITHMS = ('tvl1', 'farneback')


class FlowExtractionError(RuntimeError):
    """Raised for an unreadable video, an empty / too short frame folder or bad arguments."""


# --------------------------------------------------------------------------------------
# quantisation
# --------------------------------------------------------------------------------------
def quantize_flow(flow: np.ndarray, bound: float = 20.0) -> np.ndarray:
    """Quantise flow (pixels, any shape) to uint8: ``clip(round((f + b) * 255 / 2b), 0, 255)``."""
    if bound <= 0:
        raise ValueError(f'bound must be > 0, got {bound}')
    q = np.round((np.asarray(flow, dtype=np.float32) + bound) * (255.0 / (2.0 * bound)))
    return np.clip(q, 0, 255).astype(np.uint8)


def dequantize_flow(q: np.ndarray, bound: float = 20.0) -> np.ndarray:
    """Inverse of :func:`quantize_flow`: ``q * 2b / 255 - b`` (float32, pixels).

    For ``|f| <= b`` the round trip error is at most ``b / 255`` (half a quantisation step).
    """
    return np.asarray(q, dtype=np.float32) * (2.0 * bound / 255.0) - bound


# --------------------------------------------------------------------------------------
# flow computation
# --------------------------------------------------------------------------------------
def has_tvl1() -> bool:
    return hasattr(cv2, 'optflow') and hasattr(cv2.optflow, 'DualTVL1OpticalFlow_create')


def resolve_algorithm(algorithm: str) -> str:
    algorithm = algorithm.lower()
    if algorithm not in ALGORITHMS:
        raise ValueError(f'unknown flow algorithm {algorithm!r}; choose one of {ALGORITHMS}')
    if algorithm == 'tvl1' and not has_tvl1():
        warnings.warn('cv2.optflow (opencv-contrib) is not available: using Farneback instead '
                      'of TV-L1')
        algorithm = 'farneback'
    return algorithm


def _to_gray(frame: np.ndarray) -> np.ndarray:
    frame = np.asarray(frame)
    if frame.ndim == 3 and frame.shape[2] == 1:
        frame = frame[..., 0]
    if frame.ndim == 3:
        frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    if frame.dtype != np.uint8:
        frame = np.clip(frame, 0, 255).astype(np.uint8)
    return frame


def resize_short(frame: np.ndarray, new_short: int) -> np.ndarray:
    """Resize so that the short side is ``new_short`` (aspect ratio kept); 0 = unchanged."""
    if not new_short:
        return frame
    h, w = frame.shape[:2]
    if min(h, w) == new_short:
        return frame
    if h <= w:
        nh, nw = new_short, max(1, int(round(w * new_short / h)))
    else:
        nw, nh = new_short, max(1, int(round(h * new_short / w)))
    return cv2.resize(frame, (nw, nh), interpolation=cv2.INTER_AREA)


def compute_flow(frames: Sequence[np.ndarray], algorithm: str = 'tvl1', step: int = 1,
                 progress: bool = False, desc: str = 'flow') -> np.ndarray:
    """Float flow (pixels) between frames ``i`` and ``i + 1`` of ``frames[::step]``.

    Args:
        frames: ``T`` images, BGR ``[H, W, 3]`` or gray ``[H, W]`` uint8, all the same size.
        algorithm: ``'tvl1'`` (falls back to Farneback without opencv-contrib) or ``'farneback'``.
        step: use every ``step``-th frame (2 = EPIC half-rate flow).

    Returns:
        float32 ``[T' - 1, H, W, 2]`` with ``T' = len(frames[::step])``; channel 0 = x (right
        positive), channel 1 = y (down positive).

    Raises:
        FlowExtractionError: fewer than 2 frames or frames of different sizes.
    """
    frames = list(frames)[::max(1, int(step))]
    if len(frames) < 2:
        raise FlowExtractionError(f'need at least 2 frames for optical flow, got {len(frames)}')
    algorithm = resolve_algorithm(algorithm)
    gray = [_to_gray(f) for f in frames]
    shape = gray[0].shape
    for i, g in enumerate(gray):
        if g.shape != shape:
            raise FlowExtractionError(f'frame {i} has size {g.shape}, frame 0 has {shape}')
    out = np.empty((len(gray) - 1, shape[0], shape[1], 2), np.float32)
    tvl1 = cv2.optflow.DualTVL1OpticalFlow_create() if algorithm == 'tvl1' else None
    it = range(len(gray) - 1)
    if progress:
        it = tqdm(it, desc=desc, leave=False, unit='pair')
    for i in it:
        if tvl1 is not None:
            out[i] = tvl1.calc(gray[i], gray[i + 1], None)
        else:
            out[i] = cv2.calcOpticalFlowFarneback(gray[i], gray[i + 1], None, pyr_scale=0.5,
                                                  levels=3, winsize=15, iterations=3,
                                                  poly_n=5, poly_sigma=1.2, flags=0)
    return out


def extract_flow(frames: Sequence[np.ndarray], algorithm: str = 'tvl1', bound: float = 20.0,
                 step: int = 1, progress: bool = False) -> np.ndarray:
    """Quantised flow: uint8 ``[T - 1, H, W, 2]`` (x, y) of :func:`compute_flow`, bound ``b``."""
    return quantize_flow(compute_flow(frames, algorithm, step=step, progress=progress), bound)


# --------------------------------------------------------------------------------------
# reading inputs
# --------------------------------------------------------------------------------------
def natural_key(s: str):
    """Sort key for names with numbers in their natural order (``img_2`` before ``img_10``)."""
    return [int(t) if t.isdigit() else t for t in re.split(r'(\d+)', s)]


def is_video(path: str) -> bool:
    return osp.isfile(path) and path.lower().endswith(VIDEO_EXTS)


def list_frame_files(folder: str, pattern: Optional[str] = None) -> List[str]:
    names = [n for n in os.listdir(folder) if n.lower().endswith(IMAGE_EXTS)
             and osp.isfile(osp.join(folder, n))]
    if pattern:
        names = [n for n in names if fnmatch.fnmatch(n, pattern)]
    return [osp.join(folder, n) for n in sorted(names, key=natural_key)]


def read_video(path: str) -> List[np.ndarray]:
    """All frames of a video as BGR uint8 (decord, else cv2.VideoCapture).

    Raises:
        FlowExtractionError: the file is missing or no frame can be decoded.
    """
    if not osp.isfile(path):
        raise FlowExtractionError(f'video file not found: {path}')
    frames: List[np.ndarray] = []
    try:
        import decord
        vr = decord.VideoReader(path, num_threads=1)
        if len(vr) > 0:
            arr = vr.get_batch(list(range(len(vr)))).asnumpy()
            frames = [np.ascontiguousarray(f[..., ::-1]) for f in arr]  # RGB -> BGR
    except Exception:  # noqa: BLE001 - fall back to OpenCV on any decord failure
        frames = []
    if not frames:
        cap = cv2.VideoCapture(path)
        try:
            while True:
                ok, f = cap.read()
                if not ok:
                    break
                frames.append(f)
        finally:
            cap.release()
    if not frames:
        raise FlowExtractionError(f'cannot decode any frame of video {path!r} '
                                  '(corrupt file or unsupported codec)')
    return frames


def read_frame_folder(folder: str, pattern: Optional[str] = None) -> List[np.ndarray]:
    files = list_frame_files(folder, pattern)
    if not files:
        raise FlowExtractionError(
            f'frame folder {folder!r} contains no image files'
            + (f' matching {pattern!r}' if pattern else f' (extensions {IMAGE_EXTS})'))
    frames = []
    for f in files:
        img = cv2.imread(f, cv2.IMREAD_COLOR)
        if img is None:
            raise FlowExtractionError(f'cannot read image {f!r}')
        frames.append(img)
    return frames


def read_input(path: str, pattern: Optional[str] = None) -> List[np.ndarray]:
    if osp.isdir(path):
        return read_frame_folder(path, pattern)
    if osp.isfile(path):
        return read_video(path)
    raise FlowExtractionError(f'input not found: {path}')


# --------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------
def write_flow(qflow: np.ndarray, out_dir: str, tmpl: str = DEFAULT_TMPL,
               axes: Sequence[str] = ('x', 'y'), start_idx: int = 1) -> List[str]:
    """Write uint8 ``[N, H, W, 2]`` flow as grayscale JPEGs; returns the written paths."""
    if len(axes) != 2:
        raise ValueError(f'axes must name 2 components, got {axes}')
    written = []
    made = set()
    for i in range(qflow.shape[0]):
        for c, axis in enumerate(axes):
            path = osp.join(out_dir, tmpl.format(axis=axis, idx=i + start_idx))
            d = osp.dirname(path)
            if d not in made:
                os.makedirs(d, exist_ok=True)
                made.add(d)
            if not cv2.imwrite(path, np.ascontiguousarray(qflow[i, :, :, c])):
                raise FlowExtractionError(f'cannot write {path!r}')
            written.append(path)
    return written


def process_one(src: str, out_dir: str, algorithm: str = 'tvl1', bound: float = 20.0,
                tmpl: str = DEFAULT_TMPL, axes: Sequence[str] = ('x', 'y'), step: int = 1,
                new_short: int = 0, frame_pattern: Optional[str] = None,
                progress: bool = True) -> int:
    """Video file or frame folder ``src`` -> flow JPEGs in ``out_dir``; returns #flow frames."""
    frames = [resize_short(f, new_short) for f in read_input(src, frame_pattern)]
    if len(frames[::max(1, step)]) < 2:
        raise FlowExtractionError(f'{src!r}: {len(frames)} frame(s) with step {step}; '
                                  'need at least 2 frames for optical flow')
    q = extract_flow(frames, algorithm, bound, step=step, progress=progress)
    write_flow(q, out_dir, tmpl, axes)
    return q.shape[0]


def collect_inputs(folder: str, frame_pattern: Optional[str] = None) -> List[str]:
    """Batch items of a folder: video files and sub-folders holding image frames."""
    items = []
    for name in sorted(os.listdir(folder), key=natural_key):
        p = osp.join(folder, name)
        if is_video(p):
            items.append(p)
        elif osp.isdir(p) and list_frame_files(p, frame_pattern):
            items.append(p)
    return items


def _worker(job):
    cv2.setNumThreads(1)
    src, out_dir, kw = job
    try:
        return src, process_one(src, out_dir, progress=False, **kw), None
    except Exception as e:  # noqa: BLE001 - reported per item, batch continues
        return src, 0, f'{type(e).__name__}: {e}'


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('--input', required=True,
                   help='a video file, a frame folder, or a folder of videos / frame folders')
    p.add_argument('--out-dir', required=True,
                   help='output folder (batch mode: one sub-folder per input, named after it)')
    p.add_argument('--algorithm', default='tvl1', choices=ALGORITHMS,
                   help='tvl1 (falls back to farneback without opencv-contrib) or farneback')
    p.add_argument('--bound', type=float, default=20.0, help='quantisation bound in pixels')
    p.add_argument('--tmpl', default=DEFAULT_TMPL,
                   help=f'output name template with {{axis}} and {{idx}} (EPIC: {EPIC_TMPL!r})')
    p.add_argument('--axes', nargs=2, default=['x', 'y'], help='names of the 2 components')
    p.add_argument('--step', type=int, default=1,
                   help='use every step-th frame (2: EPIC flow at half the RGB rate)')
    p.add_argument('--new-short', type=int, default=0,
                   help='resize frames so the short side is this many pixels (0: keep)')
    p.add_argument('--frame-pattern', default=None,
                   help="glob selecting frames inside frame folders, e.g. 'img_*.jpg'")
    p.add_argument('--num-workers', type=int, default=1, help='processes in batch mode')
    p.add_argument('--batch', action='store_true',
                   help='treat --input as a folder of videos / frame folders even if it also '
                        'holds images itself')
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    kw = dict(algorithm=args.algorithm, bound=args.bound, tmpl=args.tmpl, axes=args.axes,
              step=args.step, new_short=args.new_short, frame_pattern=args.frame_pattern)
    if args.algorithm == 'tvl1' and not has_tvl1():
        resolve_algorithm('tvl1')  # warn once in the parent
        kw['algorithm'] = 'farneback'
    src = args.input
    if not osp.exists(src):
        print(f'error: input not found: {src}', file=sys.stderr)
        return 2
    single = osp.isfile(src) or (osp.isdir(src) and not args.batch
                                 and list_frame_files(src, args.frame_pattern))
    if single:
        try:
            n = process_one(src, args.out_dir, progress=True, **kw)
        except FlowExtractionError as e:
            print(f'error: {e}', file=sys.stderr)
            return 1
        print(f'{src}: {n} flow frames -> {args.out_dir}')
        return 0
    items = collect_inputs(src, args.frame_pattern)
    if not items:
        print(f'error: folder {src!r} holds no video files ({", ".join(VIDEO_EXTS)}) and no '
              'frame folders', file=sys.stderr)
        return 1
    jobs = []
    for it in items:
        name = osp.basename(it.rstrip('/'))
        if osp.isfile(it):
            name = osp.splitext(name)[0]
        jobs.append((it, osp.join(args.out_dir, name), kw))
    failures = []
    total = 0
    if args.num_workers > 1:
        with Pool(args.num_workers) as pool:
            results = pool.imap_unordered(_worker, jobs)
            for s, n, err in tqdm(results, total=len(jobs), desc='videos'):
                total += n
                if err:
                    failures.append((s, err))
    else:
        for job in tqdm(jobs, desc='videos'):
            s, n, err = _worker(job)
            total += n
            if err:
                failures.append((s, err))
    for s, err in failures:
        print(f'error: {s}: {err}', file=sys.stderr)
    print(f'{len(jobs) - len(failures)}/{len(jobs)} inputs done, {total} flow frames -> '
          f'{args.out_dir}')
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
