# Copyright (c) mmdistill contributors.
"""Per-modality loaders. All reuse one ``results['frame_inds']`` draw made by MMAction2's
``SampleFrames`` / ``UniformSample``.

Convention: frame indices are **1-based frame numbers** for frame folders *and* videos
(the video reader subtracts 1), so the same index names the same frame in every modality.
"""
import os.path as osp
import wave as _wave
from functools import lru_cache
from typing import Optional, Sequence, Tuple

import mmcv
import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmaction.registry import TRANSFORMS

from ._utils import check_file, set_present, warn_once
from .audio_features import fit_frames, log_mel_spectrogram, resample


def _frame_inds(results: dict) -> np.ndarray:
    if 'frame_inds' not in results:
        raise KeyError('results has no "frame_inds": put SampleFrames / UniformSample '
                       'before the loaders')
    return np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)


def _read_image(path: str, flag: str = 'color') -> np.ndarray:
    check_file(path, 'frame')
    with open(path, 'rb') as f:
        buf = f.read()
    img = mmcv.imfrombytes(buf, flag=flag)  # BGR for colour images
    if img is None:
        raise ValueError(f'cannot decode image {path}')
    return img


def _open_video(path: str):
    check_file(path, 'video file')
    import decord
    try:
        return decord.VideoReader(path, num_threads=1)
    except Exception as e:  # decord.DECORDError and friends
        raise RuntimeError(f'cannot decode video {path}: {e}') from e


def _read_video_cv2(path: str, indices) -> np.ndarray:
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
        raise RuntimeError(f'cannot decode frames {missing[:5]} of video {path}')
    return np.stack([out[k] for k in indices])


@lru_cache(maxsize=4096)
def _count_numbered(tmpl: str, component: Optional[str]) -> int:
    """Largest k with ``tmpl.format([component,] k)`` existing (frames numbered 1..k)."""
    def exists(k):
        p = tmpl.format(component, k) if component is not None else tmpl.format(k)
        return osp.exists(p)
    if not exists(1):
        return 0
    hi = 1
    while exists(hi * 2):
        hi *= 2
    lo, hi = hi, hi * 2  # exists(lo), not exists(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if exists(mid):
            lo = mid
        else:
            hi = mid
    return lo


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
        allow_missing (bool): on a missing / undecodable source, log a warning once per file,
            mark rgb not present and fill zeros ``[T, H, W, 3]`` (``H, W`` from
            ``results['img_shape']`` if set, else ``missing_shape``). Default False: raise
            ``FileNotFoundError`` (missing file, message has the path) or ``RuntimeError`` /
            ``ValueError`` (undecodable, message has the path).
        missing_shape (tuple[int]): ``(H, W)`` of the zero fill.
    """

    def __init__(self, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224)) -> None:
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)

    def _load(self, results, inds):
        if results.get('filename'):
            path = results['filename']
            vr = _open_video(path)
            n = len(vr)
            dec = np.clip(inds - 1, 0, n - 1)
            uniq, inv = np.unique(dec, return_inverse=True)
            try:
                frames = vr.get_batch(uniq.tolist()).asnumpy()[..., ::-1]  # RGB -> BGR
            except Exception:  # decord.DECORDError: retry with OpenCV, which names the file
                frames = _read_video_cv2(path, uniq.tolist())
            return np.ascontiguousarray(frames[inv]), path
        if 'frame_dir' not in results:
            raise KeyError('LoadRGBFrames needs results["filename"] (video) or '
                           'results["frame_dir"] (frames)')
        tmpl = osp.join(results['frame_dir'], results.get('filename_tmpl', 'img_{:05d}.jpg'))
        cache = {}
        out = []
        for i in inds.tolist():
            if i not in cache:
                cache[i] = _read_image(tmpl.format(i))
            out.append(cache[i])
        return np.stack(out), results['frame_dir']

    def transform(self, results: dict) -> dict:
        inds = _frame_inds(results)
        try:
            imgs, _ = self._load(results, inds)
            present = True
        except (FileNotFoundError, RuntimeError, ValueError) as e:
            if not self.allow_missing:
                raise
            key = results.get('filename') or results.get('frame_dir') or str(e)
            warn_once(f'rgb:{key}', f'LoadRGBFrames: rgb missing, zero-filled: {e}')
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
                f'missing_shape={self.missing_shape})')


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

    Writes ``results['flow']``: uint8 ``[T, H, W, 2]`` (x, y quantised, 127.5 = zero flow),
    ``results['flow_inds']`` ``[T]`` and the presence flags. ``allow_missing`` / errors as in
    :class:`LoadRGBFrames`.
    """

    def __init__(self, filename_tmpl: Optional[str] = None,
                 components: Optional[Sequence[str]] = None,
                 ratio: Optional[int] = None, allow_missing: bool = False,
                 missing_shape: Tuple[int, int] = (224, 224)) -> None:
        self.filename_tmpl = filename_tmpl
        self.components = tuple(components) if components is not None else None
        self.ratio = ratio
        self.allow_missing = allow_missing
        self.missing_shape = tuple(missing_shape)

    def _params(self, results):
        tmpl = self.filename_tmpl or results.get('flow_filename_tmpl', '{}_{:05d}.jpg')
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
                n_flow = _count_numbered(full, comps[0])
            if n_flow < 1:
                raise FileNotFoundError(
                    f'no flow frames found: {full.format(comps[0], 1)}')
            flow_inds = np.clip(flow_inds, 1, n_flow)
            cache = {}
            out = []
            for i in flow_inds.tolist():
                if i not in cache:
                    chans = [_read_image(full.format(c, i), flag='grayscale') for c in comps]
                    if chans[0].shape != chans[1].shape:
                        raise ValueError(f'flow components differ in size: '
                                         f'{full.format(comps[0], i)}')
                    cache[i] = np.stack(chans, axis=-1)
                out.append(cache[i])
            flow = np.stack(out)
            present = True
        except (FileNotFoundError, ValueError) as e:
            if not self.allow_missing:
                raise
            warn_once(f'flow:{results["flow_dir"]}',
                      f'LoadFlowFrames: flow missing, zero-filled: {e}')
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
                f'allow_missing={self.allow_missing})')


def read_wav(path: str) -> Tuple[np.ndarray, int]:
    """Read a PCM wav file as mono float64 in [-1, 1] (channel mean) and its sample rate.

    Raises ``FileNotFoundError`` (missing) or ``ValueError`` naming the file (unreadable).
    """
    check_file(path, 'audio file')
    try:
        from scipy.io import wavfile
        sr, data = wavfile.read(path)
    except Exception as e:
        try:  # fall back to the std-lib reader
            with _wave.open(path, 'rb') as w:
                sr, nch, sw = w.getframerate(), w.getnchannels(), w.getsampwidth()
                raw = w.readframes(w.getnframes())
            dt = {1: np.uint8, 2: np.int16, 4: np.int32}[sw]
            data = np.frombuffer(raw, dtype=dt).reshape(-1, nch)
        except Exception:
            raise ValueError(f'cannot read wav file {path}: {e}') from e
    data = np.asarray(data)
    if data.dtype == np.uint8:
        x = (data.astype(np.float64) - 128.0) / 128.0
    elif np.issubdtype(data.dtype, np.integer):
        x = data.astype(np.float64) / float(-np.iinfo(data.dtype).min)
    else:
        x = data.astype(np.float64)
    if x.ndim == 2:
        x = x.mean(axis=1)
    return x, int(sr)


@TRANSFORMS.register_module()
class LoadAudioLogMel(BaseTransform):
    """Load ``results['audio_path']`` (wav), cut the segment and compute a log-mel spectrogram.

    Steps: mono mix (channel mean), resample to ``sample_rate`` (``scipy.signal.resample_poly``),
    cut ``[start_timestamp, stop_timestamp]`` seconds (whole file when the keys are absent),
    log-mel (Hann ``win_ms`` window, ``hop_ms`` hop, ``n_mels`` HTK mel bins, ``log(x + 1e-6)``),
    pad at the end with the silence value ``log(1e-6)`` or crop (``crop`` = 'center' | 'start' |
    'random') to ``num_frames`` time frames.

    Writes ``results['audio']``: float32 ``[num_frames, n_mels]`` (time frames x mel bins) and the
    presence flags; a missing / unreadable file raises ``FileNotFoundError`` / ``ValueError`` with
    the path, or with ``allow_missing=True`` gives zeros and ``modality_present['audio']=False``.
    """

    def __init__(self, num_frames: int = 1024, n_mels: int = 128, sample_rate: int = 16000,
                 win_ms: float = 25.0, hop_ms: float = 10.0, crop: str = 'center',
                 allow_missing: bool = False) -> None:
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
        try:
            x, sr = read_wav(path)
            x = resample(x, sr, self.sample_rate)
            start = results.get('start_timestamp')
            stop = results.get('stop_timestamp')
            s = 0 if start is None else max(0, int(round(float(start) * self.sample_rate)))
            e = x.size if stop is None else int(round(float(stop) * self.sample_rate))
            x = x[s:max(s, e)]
            spec = log_mel_spectrogram(x, self.sample_rate, self.n_mels, self.win_ms,
                                       self.hop_ms, self.eps)
            spec, _ = fit_frames(spec, self.num_frames, float(np.log(self.eps)), self.crop)
            present = True
        except (FileNotFoundError, ValueError) as err:
            if not self.allow_missing:
                raise
            warn_once(f'audio:{path}', f'LoadAudioLogMel: audio missing, zero-filled: {err}')
            spec = np.zeros((self.num_frames, self.n_mels), np.float32)
            present = False
        results['audio'] = spec.astype(np.float32)
        set_present(results, 'audio', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(num_frames={self.num_frames}, n_mels={self.n_mels}, '
                f'sample_rate={self.sample_rate}, win_ms={self.win_ms}, hop_ms={self.hop_ms}, '
                f'crop={self.crop!r}, allow_missing={self.allow_missing})')


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
    (1/0). Slot ``k`` is object ``k`` (k < number of objects of the video), then the hand; slots
    ``>= max_boxes`` are dropped; frames without boxes have all slots 0 (invalid). A video without
    box annotations raises ``KeyError`` naming it (or zeros + not present with
    ``allow_missing=True``).
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
        if info is None:
            msg = (f'no box annotations for video {results.get("video_id")!r} '
                   f'(results["boxes_info"] is empty)')
            if not self.allow_missing:
                raise KeyError(msg)
            warn_once(f'boxes:{results.get("video_id")}', f'LoadBoxes: {msg}; zero-filled')
            present = False
        else:
            size = info.get('frame_size') or results.get('original_shape') or self.frame_size
            if size is None:
                raise KeyError('LoadBoxes needs the frame size: boxes_info["frame_size"], '
                               'LoadRGBFrames before it, or frame_size=(H, W)')
            h, w = size
            frames = info['frames']
            for t, i in enumerate(inds.tolist()):
                for slot, cat, x1, y1, x2, y2 in frames.get(i, ()):
                    if slot >= self.max_boxes:
                        continue
                    out[t, slot] = (x1 / w, y1 / h, x2 / w, y2 / h, cat, 1.0)
            out[..., :4] = np.clip(out[..., :4], 0.0, 1.0)
            present = True
        results['boxes'] = out
        set_present(results, 'boxes', present)
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(max_boxes={self.max_boxes}, '
                f'frame_size={self.frame_size}, allow_missing={self.allow_missing})')
