# Copyright (c) mmdistill contributors.
"""Per-modality loaders. All reuse one ``results['frame_inds']`` draw made by MMAction2's
``SampleFrames`` / ``UniformSample``.

Convention: frame indices are **1-based frame numbers** for frame folders *and* videos
(the video reader subtracts 1), so the same index names the same frame in every modality.
"""
import os.path as osp
import wave as _wave
from typing import Callable, Optional, Sequence, Tuple

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine import fileio

from mmaction.registry import TRANSFORMS
from ._utils import (check_frame_template, local_path, read_image, sample_name, set_present,
                     warn_once)
from .audio_features import (fit_frames, log_mel_spectrogram, resample, resample_read_range,
                             resampled_length)
from .invariants import MediaError, check_waveform, stack_frames
from .view import draw


def valid_box(x1, y1, x2, y2) -> bool:
    """A box is usable when its four coordinates are finite and ``x2 > x1``, ``y2 > y1``."""
    c = np.asarray((x1, y1, x2, y2), np.float64)
    return bool(np.isfinite(c).all() and c[2] > c[0] and c[3] > c[1])


def _frame_inds(results: dict) -> np.ndarray:
    if 'frame_inds' not in results:
        raise KeyError('results has no "frame_inds": put SampleFrames / UniformSample '
                       'before the loaders')
    return np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)


def _read_image(path: str, flag: str = 'color',
                backend_args: Optional[dict] = None) -> np.ndarray:
    """BGR (colour) / grayscale image; ``FileNotFoundError`` / ``ValueError`` naming ``path``
    (missing, empty, undecodable: see :func:`._utils.decode_image`)."""
    return read_image(path, flag, 'frame', backend_args)


def _open_video(local: str, name: Optional[str] = None):
    """decord reader of the local file ``local`` (``name``: the path shown in errors)."""
    import decord
    try:
        return decord.VideoReader(local, num_threads=1)
    except Exception as e:  # decord.DECORDError and friends
        raise RuntimeError(f'cannot decode video {name or local}: {e}') from e


def _read_video_cv2(path: str, indices, name: Optional[str] = None) -> np.ndarray:
    """Frames ``indices`` (0-based, sorted, unique) of a video with OpenCV, BGR ``[n, H, W, 3]``.

    Fallback for decord, which fails on some small mp4v videos (frame widths it pads).

    Raises:
        RuntimeError: naming the file when a frame cannot be read.
    """
    cap = cv2.VideoCapture(path)
    wanted, out, i = set(indices), {}, 0
    try:
        while len(out) < len(wanted):
            ok, frame = cap.read()
            if not ok:
                break
            if i in wanted:
                out[i] = frame
            i += 1
    finally:
        cap.release()
    missing = [k for k in indices if k not in out]
    if missing:
        raise RuntimeError(f'cannot decode frames {missing[:5]} of video {name or path}')
    return np.stack([out[k] for k in indices])


_COUNT_CACHE: dict = {}


def _count_numbered(tmpl: str, component: Optional[str],
                    backend_args: Optional[dict] = None) -> int:
    """Largest k with ``tmpl.format([component,] k)`` existing (frames numbered 1..k), by
    ``O(log k)`` ``mmengine.fileio.exists`` probes; cached per (template, component, backend)."""
    key = (tmpl, component, repr(sorted((backend_args or {}).items())))
    if key in _COUNT_CACHE:
        return _COUNT_CACHE[key]

    def exists(k):
        p = tmpl.format(component, k) if component is not None else tmpl.format(k)
        return fileio.exists(p, backend_args=backend_args)
    if len(_COUNT_CACHE) >= 4096:
        _COUNT_CACHE.clear()
    _COUNT_CACHE[key] = n = _bisect_count(exists)
    return n


#: more numbered frames than any video has: counting stops there (a template without an
#: index field would otherwise be counted forever)
MAX_FRAMES = 1 << 27


def _bisect_count(exists: Callable[[int], bool]) -> int:
    if not exists(1):
        return 0
    hi = 1
    while exists(hi * 2):
        hi *= 2
        if hi >= MAX_FRAMES:
            raise ValueError(f'more than {MAX_FRAMES} numbered frames exist: the filename '
                             f'template has no frame-index field')
    lo, hi = hi, hi * 2  # exists(lo), not exists(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if exists(mid):
            lo = mid
        else:
            hi = mid
    return lo


def _nbytes(frames: np.ndarray) -> int:
    """Size of a cached video (a module-level function: the cache pickles into spawned
    dataloader workers)."""
    return frames.nbytes


@TRANSFORMS.register_module()
class LoadRGBFrames(BaseTransform):
    """Load RGB frames ``results['frame_inds']`` from a frame folder or a video (decord).

    Source: ``results['filename']`` (video, decord) if present, else
    ``results['frame_dir']`` + ``results['filename_tmpl']`` (default ``'img_{:05d}.jpg'``).
    Indices are 1-based frame numbers (video frame ``i`` = decord index ``i - 1``, clipped to the
    video length).

    Writes ``results['rgb']``: uint8 ``[T, H, W, 3]`` in **BGR** channel order (mmcv/OpenCV; decord
    output is converted) — the data preprocessor's ``to_rgb`` turns it into RGB;
    ``img_shape`` / ``original_shape`` ``(H, W)``; ``modality_present['rgb']`` and
    ``modality_mask['rgb']``.

    Args:
        allow_missing (bool): on a missing / undecodable source, or frames that break the clip
            invariants (:func:`.invariants.stack_frames`: a frame of another size names its
            file), log a warning once per file,
            mark rgb not present and fill zeros ``[T, H, W, 3]`` (``H, W`` from
            ``results['img_shape']`` if set, else ``missing_shape``). Default False: raise
            ``FileNotFoundError`` (missing file, message has the path) or ``RuntimeError`` /
            ``ValueError`` (undecodable, message has the path).
        missing_shape (tuple[int]): ``(H, W)`` of the zero fill.
        backend_args (dict, optional): ``mmengine.fileio`` backend of the files (default None:
            local disk), e.g. ``dict(backend='petrel')``; a video is read through
            ``get_local_path`` (a temporary copy on remote backends), frames through ``get``.
        video_cache_mb (float): keep up to this many MiB of decoded videos in memory, least
            recently used out first (``cachetools.LRUCache`` sized by the arrays' bytes), so a
            video read again (the next epoch) is not decoded again. Default 0: no cache. A miss
            decodes every frame of the video once; a video larger than the cache is decoded as
            without it. The frames are the same either way (decoding is deterministic;
            ``tests/test_transforms_loading.py`` checks it on real clips). One cache per
            transform and process (each dataloader worker fills its own); the files must not
            change during the run. For small videos read many times: on 64×64 mp4v clips like
            the toy data's it takes the loading time after the first epoch from 1.8 to 0.05 ms
            per clip (``benchmarks/video_cache.py``, docs/performance.md).

    Raises:
        ValueError: ``video_cache_mb`` is negative.
    """

    def __init__(self, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224),
                 backend_args: Optional[dict] = None,
                 video_cache_mb: float = 0) -> None:
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)
        self.backend_args = backend_args
        if not video_cache_mb >= 0:
            raise ValueError(f'LoadRGBFrames: video_cache_mb must be >= 0, got {video_cache_mb!r}')
        self.video_cache_mb = video_cache_mb
        self._videos = None
        if video_cache_mb > 0:
            from cachetools import LRUCache
            self._videos = LRUCache(maxsize=int(video_cache_mb * 2**20), getsizeof=_nbytes)

    def _decode(self, path: str, inds: np.ndarray) -> np.ndarray:
        """Frames ``inds`` (1-based, clipped to the video) of the video ``path``: BGR
        ``[len(inds), H, W, 3]``, from the cache when it holds the video."""
        frames = self._videos.get(path) if self._videos is not None else None
        if frames is not None:
            return frames[np.clip(inds - 1, 0, len(frames) - 1)]
        with local_path(path, 'video file', self.backend_args) as local:
            vr = _open_video(local, path)
            n = len(vr)
            if n < 1:
                raise RuntimeError(f'cannot decode video {path}: it has no frames')
            dec = np.clip(inds - 1, 0, n - 1)
            # with a cache, decode the whole video once; else only the frames wanted
            want = np.arange(n) if self._videos is not None else np.unique(dec)
            try:
                frames = vr.get_batch(want.tolist()).asnumpy()[..., ::-1]  # RGB -> BGR
            except Exception:  # decord.DECORDError: retry with OpenCV, which names the file
                frames = _read_video_cv2(local, want.tolist(), path)
            del vr
        frames = np.ascontiguousarray(frames)
        if self._videos is not None:
            try:
                self._videos[path] = frames
            except ValueError:  # larger than the whole cache: not kept
                pass
        return frames[np.searchsorted(want, dec)]

    def _load(self, results, inds):
        if results.get('filename'):
            return self._decode(results['filename'], inds), results['filename']
        if 'frame_dir' not in results:
            raise KeyError('LoadRGBFrames needs results["filename"] (video) or '
                           'results["frame_dir"] (frames)')
        tmpl = osp.join(results['frame_dir'], results.get('filename_tmpl', 'img_{:05d}.jpg'))
        cache = {}
        out, paths = [], []
        for i in inds.tolist():
            if i not in cache:
                cache[i] = _read_image(tmpl.format(i), backend_args=self.backend_args)
            out.append(cache[i])
            paths.append(tmpl.format(i))
        return stack_frames(out, paths, 'rgb'), results['frame_dir']

    def transform(self, results: dict) -> dict:
        inds = _frame_inds(results)
        try:
            imgs, _ = self._load(results, inds)
            present = True
        except (FileNotFoundError, RuntimeError, ValueError) as e:
            if not self.allow_missing:
                raise
            key = results.get('filename') or results.get('frame_dir') or str(e)
            warn_once(f'rgb:{key}', f'LoadRGBFrames: rgb missing for sample '
                                    f'{sample_name(results)}, zero-filled: {e}')
            h, w = results.get('img_shape', self.missing_shape)
            imgs = np.zeros((len(inds), h, w, 3), np.uint8)
            present = False
        results['rgb'] = imgs
        results['img_shape'] = imgs.shape[1:3]
        results['original_shape'] = imgs.shape[1:3]
        set_present(results, 'rgb', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(allow_missing={self.allow_missing}, '
                f'missing_shape={self.missing_shape}, backend_args={self.backend_args}, '
                f'video_cache_mb={self.video_cache_mb})')


@TRANSFORMS.register_module()
class LoadFlowFrames(BaseTransform):
    """Load optical-flow frames matching the RGB ``frame_inds``.

    Flow index = ``(rgb_index - 1) // ratio + 1``, clipped to ``[1, n_flow]`` where ``n_flow`` is
    ``results['flow_total_frames']`` or, if absent, the number of flow files found on disk.
    Files: ``osp.join(results['flow_dir'], flow_filename_tmpl.format(component, idx))``, one
    grayscale JPEG per component (``('u', 'v')`` EPIC: ``'{}/frame_{:010d}.jpg'``;
    ``('x', 'y')`` MMAction2/denseflow: ``'{}_{:05d}.jpg'``).

    ``filename_tmpl``, ``components``, ``ratio`` default to ``results['flow_filename_tmpl']``,
    ``results['flow_components']``, ``results['rgb_to_flow_ratio']`` (set by the datasets), then to
    ``'{}_{:05d}.jpg'``, ``('x', 'y')``, 1.

    Indices past the last flow frame are clamped to it only up to ``max_overrun`` flow frames
    (default 1: the flow of a clip's last RGB frame does not exist, e.g. SSv2 flow ``i`` is frame
    ``i -> i + 1``, and EPIC's half-rate extraction may drop the last pair); a sample needing more
    (flow extracted for fewer frames than the segment) raises ``ValueError`` naming the flow
    folder, its frame count and the indices needed, or with ``allow_missing=True`` is marked
    missing with a warning naming the sample.

    Writes ``results['flow']``: uint8 ``[T, H, W, 2]`` (x, y quantised, 127.5 = zero flow),
    ``results['flow_inds']`` ``[T]`` and the presence flags. ``allow_missing`` / errors /
    ``backend_args`` as in :class:`LoadRGBFrames`.
    """

    def __init__(self, filename_tmpl: Optional[str] = None,
                 components: Optional[Sequence[str]] = None,
                 ratio: Optional[int] = None, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224),
                 backend_args: Optional[dict] = None, max_overrun: int = 1) -> None:
        self.backend_args = backend_args
        self.max_overrun = int(max_overrun)
        if filename_tmpl is not None:
            check_frame_template(filename_tmpl, 'LoadFlowFrames filename_tmpl',
                                 with_component=True)
        self.filename_tmpl = filename_tmpl
        self.components = tuple(components) if components is not None else None
        self.ratio = ratio
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)

    def _params(self, results):
        tmpl = self.filename_tmpl or check_frame_template(
            results.get('flow_filename_tmpl', '{}_{:05d}.jpg'), 'results["flow_filename_tmpl"]',
            with_component=True)
        comps = self.components or tuple(results.get('flow_components', ('x', 'y')))
        ratio = self.ratio or int(results.get('rgb_to_flow_ratio', 1))
        return tmpl, comps, ratio

    def transform(self, results: dict) -> dict:
        inds = _frame_inds(results)
        tmpl, comps, ratio = self._params(results)
        if 'flow_dir' not in results:
            raise KeyError('LoadFlowFrames needs results["flow_dir"]')
        full = osp.join(results['flow_dir'], tmpl)
        flow_inds = (inds - 1) // ratio + 1
        try:
            n_flow = results.get('flow_total_frames')
            if n_flow is None:
                n_flow = _count_numbered(full, comps[0], self.backend_args)
            if n_flow < 1:
                raise FileNotFoundError(
                    f'no flow frames found: {full.format(comps[0], 1)}')
            if flow_inds.max() > n_flow + self.max_overrun:
                raise ValueError(
                    f'flow of {results["flow_dir"]} has {n_flow} frames but the sample needs '
                    f'flow frames up to {int(flow_inds.max())} (RGB frames up to '
                    f'{int(inds.max())}, {ratio} RGB frame(s) per flow frame): flow extracted '
                    f'for fewer frames than the segment (max_overrun={self.max_overrun})')
            flow_inds = np.clip(flow_inds, 1, n_flow)
            cache = {}
            out, paths = [], []
            for i in flow_inds.tolist():
                if i not in cache:
                    chans = [_read_image(full.format(c, i), 'grayscale', self.backend_args)
                             for c in comps]
                    for c, img in zip(comps[1:], chans[1:]):
                        if img.shape != chans[0].shape:
                            raise MediaError(
                                f'flow frame {full.format(c, i)} is {img.shape[1]}x'
                                f'{img.shape[0]}, its {comps[0]} component '
                                f'{full.format(comps[0], i)} {chans[0].shape[1]}x'
                                f'{chans[0].shape[0]}: flow components differ in size')
                    cache[i] = np.stack(chans, axis=-1)
                out.append(cache[i])
                paths.append(full.format(comps[0], i))
            flow = stack_frames(out, paths, 'flow', channels=len(comps))
            present = True
        except (FileNotFoundError, ValueError) as e:
            if not self.allow_missing:
                raise
            warn_once(f'flow:{results["flow_dir"]}',
                      f'LoadFlowFrames: flow missing for sample {sample_name(results)}, '
                      f'zero-filled: {e}')
            h, w = results.get('img_shape', self.missing_shape)
            flow = np.zeros((len(inds), h, w, 2), np.uint8)
            present = False
        results['flow'] = flow
        results['flow_inds'] = flow_inds.astype(np.int64)
        if 'img_shape' not in results:
            results['img_shape'] = flow.shape[1:3]
        set_present(results, 'flow', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(filename_tmpl={self.filename_tmpl!r}, '
                f'components={self.components}, ratio={self.ratio}, '
                f'allow_missing={self.allow_missing}, backend_args={self.backend_args}, '
                f'max_overrun={self.max_overrun})')


def _pcm_to_float(data: np.ndarray) -> np.ndarray:
    """PCM samples ``[n]`` or ``[n, C]`` -> mono float64 in [-1, 1] (channel mean)."""
    data = np.asarray(data)
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        x = data.astype(np.float64) / float(-np.iinfo(data.dtype).min)
    else:
        x = data.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return x


class _WavFault(ValueError):
    """A damage the wav reader found itself (message ready for the user)."""


def _read_wav_local(local: str, select: Optional[Callable[[int, int], Tuple[int, int]]]):
    """Samples ``[a, b)`` of a local wav file, ``(a, b) = select(num_samples, sample_rate)``
    (whole file when ``select`` is None), reading only that range: the data chunk is
    memory-mapped (``scipy.io.wavfile.read(mmap=True)``), or, for formats scipy cannot map
    (24-bit PCM), the std-lib ``wave`` reader seeks to ``a`` (``setpos``) and reads ``b - a``
    frames. Returns ``(samples [b - a] or [b - a, C] PCM, sample_rate, a)``."""
    from scipy.io import wavfile
    try:
        sr, data = wavfile.read(local, mmap=True)
        a, b = (0, data.shape[0]) if select is None else select(data.shape[0], int(sr))
        return np.array(data[a:b]), int(sr), a  # copies only the mapped pages of [a, b)
    except ValueError:
        pass
    with _wave.open(local, 'rb') as w:
        sr, nch, sw, n = w.getframerate(), w.getnchannels(), w.getsampwidth(), w.getnframes()
        if n > 0:  # a truncated file: the data chunk ends before the samples its header declares
            w.setpos(n - 1)
            if len(w.readframes(1)) < nch * sw:
                raise _WavFault(f'truncated: the header declares {n} samples but the data '
                                f'ends before the last one')
        a, b = (0, n) if select is None else select(n, int(sr))
        w.setpos(a)
        raw = w.readframes(b - a)
        if len(raw) < (b - a) * nch * sw:
            raise _WavFault(f'truncated: samples [{a}, {b}) cut short')
    if sw == 3:  # 24-bit little-endian -> int32
        u = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        v = (u[:, 0].astype(np.int32) | (u[:, 1].astype(np.int32) << 8)
             | (u[:, 2].astype(np.int32) << 16))
        data = np.where(v >= 1 << 23, v - (1 << 24), v) << 8
    else:
        data = np.frombuffer(raw, dtype={1: np.uint8, 2: np.int16, 4: np.int32}[sw])
    return data.reshape(-1, nch), int(sr), a


def read_wav(path: str, select: Optional[Callable[[int, int], Tuple[int, int]]] = None,
             backend_args: Optional[dict] = None) -> Tuple[np.ndarray, int]:
    """Read a PCM wav file (or the samples ``[a, b)`` of it) as mono float64 in [-1, 1]
    (channel mean) and its sample rate.

    Args:
        path (str): wav file, read through ``mmengine.fileio.get_local_path`` with
            ``backend_args`` (local disk by default; remote backends fetch a temporary copy).
        select (callable, optional): ``(num_samples, sample_rate) -> (a, b)``: read only
            samples ``[a, b)`` (seek / memory map: the cost does not grow with the file length).

    Raises ``FileNotFoundError`` (missing) or ``ValueError`` naming the file (unreadable), or
    :class:`~.invariants.MediaError` (a ``ValueError``; :func:`~.invariants.check_waveform`):
    NaN / inf samples of a float wav, channels that cancel in the mono mix.
    """
    with local_path(path, 'audio file', backend_args) as local:
        try:
            data, sr, _ = _read_wav_local(local, select)
            check_waveform(data, path)
        except MediaError:
            raise
        except _WavFault as e:
            raise ValueError(f'cannot read wav file {path}: {e}') from e
        except Exception as e:  # scipy / wave / struct errors of a damaged or non-PCM file
            raise ValueError(f'cannot read wav file {path} (not a complete PCM wav): '
                             f'{type(e).__name__}: {e}') from e
    return _pcm_to_float(data), sr


def read_audio_segment(path: str, sample_rate: int, start: Optional[float] = None,
                       stop: Optional[float] = None,
                       backend_args: Optional[dict] = None) -> np.ndarray:
    """Mono waveform of ``[start, stop]`` seconds of a wav file, resampled to ``sample_rate``.

    Equal (to float rounding) to resampling the whole file with :func:`resample` and cutting
    samples ``[round(start * sample_rate), round(stop * sample_rate))`` (``None``: the file's
    start / end), but reads and resamples only the segment plus the resampling filter's
    support (:func:`resample_read_range`), so the cost per sample does not depend on the file
    length (EPIC-KITCHENS keeps one wav per video, up to an hour).

    Returns:
        np.ndarray: float64 ``[L]``, ``L = stop - start`` samples at ``sample_rate`` (fewer when
        the segment runs past the file's end).

    Raises:
        FileNotFoundError / ValueError: as :func:`read_wav`.
    """
    return _read_audio_segment(path, sample_rate, start, stop, backend_args)[0]


def _read_audio_segment(path, sample_rate, start, stop, backend_args):
    """:func:`read_audio_segment` and the file's length in samples at ``sample_rate``."""
    span = {}

    def select(n, sr):
        n_out = resampled_length(n, sr, sample_rate)
        span['n_out'] = n_out
        s = 0 if start is None else min(n_out, max(0, int(round(float(start) * sample_rate))))
        e = n_out if stop is None else min(n_out, int(round(float(stop) * sample_rate)))
        a, b, lo, hi = resample_read_range(n, sr, sample_rate, s, max(s, e))
        span.update(lo=lo, hi=hi)
        return a, b

    x, sr = read_wav(path, select, backend_args)
    return resample(x, sr, sample_rate)[span['lo']:span['hi']], span['n_out']


def _secs(t) -> str:
    return '(none)' if t is None else f'{float(t):.3f} s'


@TRANSFORMS.register_module()
class LoadAudioLogMel(BaseTransform):
    """Load ``results['audio_path']`` (wav), cut the segment and compute a log-mel spectrogram.

    Steps: mono mix (channel mean), resample to ``sample_rate`` (``scipy.signal.resample_poly``),
    cut ``[start_timestamp, stop_timestamp]`` seconds (whole file when the keys are absent) —
    only the segment is read and resampled (:func:`read_audio_segment`), so the load time does not
    grow with the file length —, log-mel (Hann ``win_ms`` window, ``hop_ms`` hop, ``n_mels``
    HTK mel bins, ``log(x + 1e-6)``),
    pad at the end with the silence value ``log(1e-6)`` or crop (``crop`` = 'center' | 'start' |
    'random') to ``num_frames`` time frames.

    Writes ``results['audio']``: float32 ``[num_frames, n_mels]`` (time frames x mel bins) and the
    presence flags. Faults (each message names the file and the sample):

    * ``start_timestamp > stop_timestamp``: ``ValueError`` always (an annotation fault).
    * a missing file (``FileNotFoundError``), an unreadable / truncated wav, a wav with 0 samples,
      or a segment with no sample inside the file (it starts at or after the file's end, or is
      empty) (``ValueError``): raised, or with ``allow_missing=True`` zeros,
      ``modality_present['audio']=False`` and a warning (once per file, or per sample for
      segment faults).
    * a segment that runs past the file's end but overlaps it: the covered part is used
      (padded as any short segment) and a warning names the sample and the covered seconds.
    * media invariants (:mod:`.invariants`): NaN / inf samples of a float wav, channels that
      cancel in the mono mix, a non-finite spectrogram: ``MediaError`` (a ``ValueError``),
      raised or (``allow_missing=True``) marked missing with a warning, like an unreadable wav.

    ``backend_args``: ``mmengine.fileio`` backend of the wav files (default None: local disk).
    """

    def __init__(self, num_frames: int = 1024, n_mels: int = 128, sample_rate: int = 16000,
                 win_ms: float = 25.0, hop_ms: float = 10.0, crop: str = 'center',
                 allow_missing: bool = False, backend_args: Optional[dict] = None) -> None:
        self.backend_args = backend_args
        self.num_frames = num_frames
        self.n_mels = n_mels
        self.sample_rate = sample_rate
        self.win_ms = win_ms
        self.hop_ms = hop_ms
        self.crop = crop
        self.allow_missing = allow_missing
        self.eps = 1e-6

    def transform(self, results: dict) -> dict:
        if 'audio_path' not in results:
            raise KeyError('LoadAudioLogMel needs results["audio_path"]')
        path = results['audio_path']
        start, stop = results.get('start_timestamp'), results.get('stop_timestamp')
        name = sample_name(results)
        if start is not None and stop is not None and float(start) > float(stop):
            raise ValueError(f'start_timestamp {float(start):.3f} s > stop_timestamp '
                             f'{float(stop):.3f} s in the annotation of sample {name} '
                             f'(audio {path})')
        per_sample = False
        try:
            x, n_file = _read_audio_segment(path, self.sample_rate, start, stop,
                                            self.backend_args)
            sr = self.sample_rate
            if n_file == 0:
                raise ValueError(f'wav file {path} has no samples')
            if x.size == 0:
                per_sample = True
                raise ValueError(
                    f'audio segment [{_secs(start)}, {_secs(stop)}] of {path} has no samples '
                    f'(the file is {n_file / sr:.3f} s long)')
            s0 = 0 if start is None else int(round(float(start) * sr))
            want = None if stop is None else int(round(float(stop) * sr)) - s0
            if want is not None and x.size < want:
                warn_once(f'audio-short:{path}:{name}',
                          f'LoadAudioLogMel: sample {name}: segment [{_secs(start)}, '
                          f'{_secs(stop)}] runs past the end of {path} '
                          f'({n_file / sr:.3f} s); using the {x.size / sr:.3f} s it covers')
            spec = log_mel_spectrogram(x, self.sample_rate, self.n_mels, self.win_ms,
                                       self.hop_ms, self.eps)
            spec, _ = fit_frames(spec, self.num_frames, float(np.log(self.eps)), self.crop,
                                 draw=lambda sample: draw(results, 'audio_offset', sample))
            if not np.isfinite(spec).all():  # the waveform was checked: a numerical fault
                raise MediaError(f'log-mel spectrogram of {path} (sample {name}) has '
                                 f'{int((~np.isfinite(spec)).sum())} non-finite value(s)')
            present = True
        except (FileNotFoundError, ValueError) as err:
            if not self.allow_missing:
                raise
            key = f'audio:{path}:{name}' if per_sample else f'audio:{path}'
            warn_once(key, f'LoadAudioLogMel: audio missing for sample {name}, zero-filled: '
                           f'{err}')
            spec = np.zeros((self.num_frames, self.n_mels), np.float32)
            present = False
        results['audio'] = spec.astype(np.float32)
        set_present(results, 'audio', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, n_mels={self.n_mels}, '
                f'sample_rate={self.sample_rate}, win_ms={self.win_ms}, hop_ms={self.hop_ms}, '
                f'crop={self.crop!r}, allow_missing={self.allow_missing}, '
                f'backend_args={self.backend_args})')


@TRANSFORMS.register_module()
class LoadBoxes(BaseTransform):
    """Gather per-frame boxes for ``results['frame_inds']`` into a fixed-slot array.

    Needs ``results['boxes_info']`` (built by :class:`SomethingSomethingV2Dataset` from
    Something-Else ``annotations.json``): ``dict(frames={frame_number: [(slot, category, x1, y1,
    x2, y2), ...]}, frame_size=(H, W) or None, video_id=..., source=<file>)`` with pixel coords.
    The frame size comes from ``boxes_info['frame_size']``, else ``results['original_shape']``
    (set by :class:`LoadRGBFrames`), else ``frame_size``.

    Writes ``results['boxes']``: float32 ``[T, max_boxes, 6]`` = ``x1, y1, x2, y2`` normalised by
    the frame width / height and clipped to [0, 1], category (0 pad, 1 object, 2 hand), valid
    (1/0). Slot ``k`` is object ``k`` (k < number of objects of the video), then the hand; boxes
    in slots ``>= max_boxes`` are dropped with a warning (once per video) naming the first;
    frames without boxes have all slots 0 (invalid).

    Faults: a box with a non-finite coordinate or ``x2 <= x1`` / ``y2 <= y1`` is dropped (its
    slot stays 0, valid 0) with a warning (once per video) naming the video, the frames and the
    annotation file. A video without box annotations raises ``KeyError`` naming it, and one whose
    annotated frames all lie outside ``[1, results['total_frames']]`` (e.g. boxes only on frames
    past the video's end) raises ``ValueError`` naming the video, the annotated frame range and
    the frame count; with ``allow_missing=True`` both give zeros + not present and a warning.
    """

    def __init__(self, max_boxes: int = 4, frame_size: Optional[Tuple[int, int]] = None,
                 allow_missing: bool = False) -> None:
        self.max_boxes = max_boxes
        self.frame_size = frame_size
        self.allow_missing = allow_missing

    def transform(self, results: dict) -> dict:
        inds = _frame_inds(results)
        out = np.zeros((len(inds), self.max_boxes, 6), np.float32)
        info = results.get('boxes_info')
        vid = results.get('video_id')
        total = results.get('total_frames')
        fault = None
        if info is None:
            fault = KeyError(f'no box annotations for video {vid!r} '
                             f'(results["boxes_info"] is empty)')
        elif total is not None and not any(1 <= f <= total for f in info['frames']):
            fr = sorted(info['frames'])
            where = (f'on frames {fr[0]}..{fr[-1]}' if fr else 'on no frame')
            fault = ValueError(f'video {vid!r} has boxes only {where} of '
                               f'{info.get("source", "its annotation file")}, none within its '
                               f'{total} frames (annotations of another video, or of a longer '
                               f'version of it?)')
        if fault is not None:
            if not self.allow_missing:
                raise fault
            warn_once(f'boxes:{vid}', f'LoadBoxes: boxes missing for sample video_id={vid!r}: '
                                      f'{fault.args[0]}; zero-filled')
            present = False
        else:
            size = info.get('frame_size') or results.get('original_shape') or self.frame_size
            if size is None:
                raise KeyError('LoadBoxes needs the frame size: boxes_info["frame_size"], '
                               'LoadRGBFrames before it, or frame_size=(H, W)')
            h, w = size
            if not (h > 0 and w > 0):
                raise MediaError(f'LoadBoxes: video {vid!r}: frame size {tuple(size)} is not '
                                 f'positive: boxes cannot be normalised')
            frames = info['frames']
            bad, over = [], []
            for t, i in enumerate(inds.tolist()):
                for slot, cat, x1, y1, x2, y2 in frames.get(i, ()):
                    if slot >= self.max_boxes:
                        over.append((i, slot, 'hand' if cat == 2 else f'object {slot}'))
                        continue
                    if not valid_box(x1, y1, x2, y2):
                        bad.append((i, (x1, y1, x2, y2)))
                        continue
                    out[t, slot] = (x1 / w, y1 / h, x2 / w, y2 / h, cat, 1.0)
            if bad:
                warn_once(f'boxes-invalid:{vid}',
                          f'LoadBoxes: video {vid!r}: dropped {len(bad)} invalid box(es) '
                          f'(non-finite or x2 <= x1 / y2 <= y1) of '
                          f'{info.get("source", "its annotation file")}, first on frame '
                          f'{bad[0][0]}: {bad[0][1]}')
            if over:
                warn_once(f'boxes-slots:{vid}',
                          f'LoadBoxes: video {vid!r}: dropped {len(over)} box(es) whose slot is '
                          f'>= max_boxes={self.max_boxes} (slots: objects 0..k-1, then hands), '
                          f'first on frame {over[0][0]}: {over[0][2]} in slot {over[0][1]}; '
                          f'raise max_boxes to keep them')
            out[..., :4] = np.clip(out[..., :4], 0.0, 1.0)
            present = True
        results['boxes'] = out
        set_present(results, 'boxes', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(max_boxes={self.max_boxes}, '
                f'frame_size={self.frame_size}, allow_missing={self.allow_missing})')
