#!/usr/bin/env python
# Copyright (c) mmdistill contributors.
"""Detect and track objects and hands in videos with MMDetection and write Something-Else boxes.

Every input (a video file, a frame folder, or a folder of those) runs through an MMDetection
detector (``mmdet.apis.init_detector`` + the config's test pipeline, ``--batch-size`` frames a
forward); the detections are linked over frames by MMDetection's ByteTrack tracker
(``mmdet.models.trackers.ByteTracker``) and written in the Something-Else ``annotations.json``
layout that ``SomethingSomethingV2Dataset(boxes_file=...)`` and ``LoadBoxes`` read::

    {"<video_id>": [{"name": "<video_id>/0001.jpg", "gt_placeholders": ["cup", "bottle"],
                     "nr_instances": 3,
                     "labels": [{"box2d": {"x1": .., "y1": .., "x2": .., "y2": ..},   # pixels
                                 "category": "cup", "standard_category": "0000",
                                 "gt_annotation": "object 0", "track_id": 4, "score": 0.91},
                                {..., "category": "person", "standard_category": "hand",
                                 "gt_annotation": "object hand", ...}]},
                    ...]}

Examples::

    # one video, the default detector (Faster R-CNN R50-FPN, COCO, from MMDetection's zoo)
    python tools/data/extract_detections.py demo.mp4 --out boxes.json
    # every video / frame folder of a folder, 8 GPUs (a shard of the videos each)
    torchrun --nproc_per_node=8 tools/data/extract_detections.py data/sthv2/videos \\
        --out data/sthv2/annotations/detections.json --launcher pytorch
    # the random-weights toy detector (plumbing checks, no download)
    python tools/data/extract_detections.py clip_dir --out boxes.json --checkpoint none \\
        --det-config tools/data/det_configs/toy_retinanet_coco.py

Tracks and slots. ByteTrack (Zhang et al., ECCV 2022) as MMDetection 3 implements it: IoU
association only (no appearance model, so any detector works and no re-ID weights are needed),
a Kalman filter predicting each track's box (a track survives ``num_frames_retain`` frames
without a detection), and a second association of low-score detections (``--low-score-thr`` to
``--score-thr``) with the tracks left unmatched, which keeps objects through motion blur and
occlusion by the hand. Detections of different classes are never linked. Per video the object
tracks are ranked by their summed score (long, confident tracks first) and the first
``--max-objects`` become ``object 0``, ``object 1``, ... (``gt_placeholders`` lists their class
names in that order); tracks of a ``--hand-classes`` class are ranked the same way and the first
``--max-hands`` become ``object hand``. The box modality's ``LoadBoxes(max_boxes=4)`` has 4
slots: objects first, then hands, so the defaults (2 + 2) fill it.

Hands. Something-Else tells the hand from the objects; COCO has no hand class. By default the
``person`` class plays the hand (``--hand-classes person``): in close-up hand-object clips
(SSv2, egocentric video) a person box covers the visible hand and arm. What is lost: the hand's
own extent (the box is the visible arm or body), left vs right (one person box for both hands),
hands of an unseen body; objects outside COCO's 80 classes are missed or mislabelled, and
``category`` holds COCO names, not Something-Else's free-text nouns. A detector trained with a
hand class (e.g. on 100DOH) keeps hands apart: ``--hand-classes hand``.

Resume. Each finished video is written atomically to ``<work-dir>/<video_id>.json`` (default
work dir: ``<out>`` without ``.json`` + ``_parts``), stamped by ``run.json`` (detector config,
checkpoint, seed, thresholds, tracker, slots): a rerun skips the finished videos, refuses a work
dir made with other settings (naming them), and merges all videos into ``--out`` (atomic) once
every one is done. A video that cannot be read is reported with its path; the others go on,
and ``--out`` is written only when all succeeded (or with ``--keep-going``, without them).
"""
import argparse
import hashlib
import json
import os
import os.path as osp
import re
import sys
import time
from contextlib import contextmanager
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import cv2
import numpy as np
from tqdm import tqdm

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))  # a checkout
sys.path.insert(0, osp.dirname(osp.abspath(__file__)))  # tools/data: the flow tool's readers
from extract_flow import VIDEO_EXTS, list_frame_files, natural_key  # noqa: E402

#: MMDetection model zoo: Faster R-CNN R50-FPN 1x on COCO (box AP 37.4), the config inside the
#: mmdet package (``mmdet::``) and the published weights (mmdet's configs/faster_rcnn/metafile.yml)
DEFAULT_DET_CONFIG = 'mmdet::faster_rcnn/faster-rcnn_r50_fpn_1x_coco.py'
DEFAULT_CHECKPOINT = ('https://download.openmmlab.com/mmdetection/v2.0/faster_rcnn/'
                      'faster_rcnn_r50_fpn_1x_coco/'
                      'faster_rcnn_r50_fpn_1x_coco_20200130-047c8118.pth')
#: bumped when the output for the same inputs and settings changes (part of the resume stamp)
FORMAT_VERSION = 1
STAMP_FILE = 'run.json'
#: MMDetection's ByteTrack settings (configs/bytetrack/*.py of mmdet 3.3); the score thresholds
#: come from --score-thr / --low-score-thr
BYTETRACK_DEFAULTS = dict(weight_iou_with_det_scores=True,
                          match_iou_thrs=dict(high=0.1, low=0.5, tentative=0.3),
                          num_tentatives=3, num_frames_retain=30)


class DetectionError(RuntimeError):
    """An input that cannot be processed (unreadable video or frame, bad frame names); the
    message names the video and the file."""


# ------------------------------------------------------------------------------------- inputs
def _image_names(folder: str) -> List[str]:
    return [osp.basename(f) for f in list_frame_files(folder)]


def collect_sources(inputs: Sequence[str]) -> List[Tuple[str, str]]:
    """``(video_id, path)`` of every input, in order: a video file (id = its name without the
    extension), a folder holding images (a frame folder; id = the folder's name), or a folder
    of videos and frame folders (each child, natural order).

    Raises:
        DetectionError: an input that does not exist or holds nothing to process; two inputs
            with the same video id (names both).
    """
    out: List[Tuple[str, str]] = []
    for path in inputs:
        path = path.rstrip('/') or path
        if osp.isfile(path):
            out.append((osp.splitext(osp.basename(path))[0], path))
        elif osp.isdir(path):
            if _image_names(path):
                out.append((osp.basename(osp.abspath(path)), path))
                continue
            found = []
            for name in sorted(os.listdir(path), key=natural_key):
                p = osp.join(path, name)
                if osp.isfile(p) and name.lower().endswith(VIDEO_EXTS):
                    found.append((osp.splitext(name)[0], p))
                elif osp.isdir(p) and _image_names(p):
                    found.append((name, p))
            if not found:
                raise DetectionError(f'{path}: no video files ({", ".join(VIDEO_EXTS)}), frame '
                                     f'folders or images in it')
            out.extend(found)
        else:
            raise DetectionError(f'input not found: {path}')
    seen: Dict[str, str] = {}
    for vid, p in out:
        if not re.fullmatch(r'[^\s/]+', vid):
            raise DetectionError(f'{p}: video id {vid!r} has whitespace (ids become '
                                 f'"<id>/<frame>.jpg" names); rename the file or folder')
        if vid in seen:
            raise DetectionError(f'video id {vid!r} twice: {seen[vid]} and {p}')
        seen[vid] = p
    return out


def frame_numbers(folder: str, video_id: str) -> List[Tuple[int, str]]:
    """``(frame number, file)`` of a frame folder, by number: the last digit group of each
    image's name (``0001.jpg`` -> 1, ``img_00012.jpg`` -> 12), as the frame loaders count.

    Raises:
        DetectionError: an image without a number, or two images with the same number.
    """
    out: Dict[int, str] = {}
    for name in _image_names(folder):
        digits = re.findall(r'\d+', osp.splitext(name)[0])
        if not digits:
            raise DetectionError(f'video {video_id}: frame {osp.join(folder, name)} has no '
                                 f'frame number in its name')
        num = int(digits[-1])
        if num in out:
            raise DetectionError(f'video {video_id}: frames {osp.join(folder, out[num])} and '
                                 f'{osp.join(folder, name)} both have number {num}')
        out[num] = name
    if not out:
        raise DetectionError(f'video {video_id}: no images in {folder}')
    return sorted(out.items())


def iter_frames(video_id: str, path: str, stride: int = 1, chunk: int = 8
                ) -> Iterator[Tuple[List[int], List[np.ndarray], int]]:
    """Frames of a video file or frame folder in chunks: ``(numbers, frames, total)``.

    ``numbers`` are 1-based frame numbers (a video's decoding order; a frame folder's names),
    every ``stride``-th frame; ``frames`` BGR uint8 ``[H, W, 3]`` (all of one size);
    ``total`` the number of frames that will be yielded (progress).

    Raises:
        DetectionError: naming the video and the file: not decodable (decord, then OpenCV),
            no frames, an unreadable image, frames of different sizes.
    """
    size = None

    def check(num, img, where):
        nonlocal size
        if img is None or img.ndim != 3 or img.size == 0:
            raise DetectionError(f'video {video_id}: cannot read frame {num} of {where}')
        if size is None:
            size = img.shape[:2]
        elif img.shape[:2] != size:
            raise DetectionError(f'video {video_id}: frame {num} of {where} is '
                                 f'{img.shape[1]}x{img.shape[0]}, the first was '
                                 f'{size[1]}x{size[0]}')
        return img

    if osp.isdir(path):
        files = frame_numbers(path, video_id)[::stride]
        for k in range(0, len(files), chunk):
            part = files[k:k + chunk]
            yield ([n for n, _ in part],
                   [check(n, cv2.imread(osp.join(path, f), cv2.IMREAD_COLOR),
                          osp.join(path, f)) for n, f in part], len(files))
        return
    if not osp.isfile(path):
        raise DetectionError(f'video {video_id}: file not found: {path}')
    try:  # decord first (MMAction2's reader); OpenCV for files decord cannot open
        import decord
        vr = decord.VideoReader(path, num_threads=1)
        n = len(vr)
        if n < 1:
            raise RuntimeError('no frames')
        vr[0].asnumpy()  # a file decord opens but cannot decode: OpenCV
    except Exception:  # noqa: BLE001 - any decord failure: try OpenCV
        vr = None
    if vr is not None:
        inds = list(range(0, n, stride))
        for k in range(0, len(inds), chunk):
            part = inds[k:k + chunk]
            try:
                arr = vr.get_batch(part).asnumpy()
            except Exception as err:  # noqa: BLE001 - named below
                raise DetectionError(f'video {video_id}: cannot decode frames {part[0] + 1}..'
                                     f'{part[-1] + 1} of {path}: {err}') from err
            yield ([i + 1 for i in part],
                   [check(i + 1, np.ascontiguousarray(f[..., ::-1]), path)
                    for i, f in zip(part, arr)], len(inds))
        return
    cap = cv2.VideoCapture(path)
    try:
        if not cap.isOpened():
            raise DetectionError(f'video {video_id}: cannot open {path} (not a video, corrupt, '
                                 f'or a codec neither decord nor OpenCV reads)')
        total = max(1, -(-int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 1) // stride))
        nums, frames, i = [], [], 0
        while True:
            ok, img = cap.read()
            if not ok:
                break
            i += 1
            if (i - 1) % stride == 0:
                nums.append(i)
                frames.append(check(i, img, path))
                if len(frames) == chunk:
                    yield nums, frames, total
                    nums, frames = [], []
        if i == 0:
            raise DetectionError(f'video {video_id}: cannot decode any frame of {path} '
                                 f'(corrupt file or unsupported codec)')
        if frames:
            yield nums, frames, total
    finally:
        cap.release()


# ---------------------------------------------------------------------- detector and tracker
@contextmanager
def mmdet_scope():
    """MMDetection's registries as the default scope inside, the caller's restored after
    (``init_detector`` would otherwise leave ``mmdet`` as the process' default scope)."""
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmdet'):
        yield


def require_mmdet():
    """Import MMDetection with MMCV's compiled ops, or raise ImportError saying how to install
    them (``bash tools/install_det.sh``)."""
    try:
        import mmcv._ext  # noqa: F401  (MMDetection's ops)
    except ImportError as err:
        raise ImportError(f'MMDetection needs MMCV with compiled ops (mmcv._ext: {err}); '
                          'install them with `bash tools/install_det.sh` (builds mmcv once, '
                          'see docs/data_preparation.md#boxes-for-any-video)') from err
    try:
        import mmdet  # noqa: F401
        from mmdet.utils import register_all_modules
    except ImportError as err:
        raise ImportError(f'MMDetection is not installed ({err}): `bash tools/install_det.sh`'
                          ) from err
    register_all_modules(init_default_scope=False)


class MMDetDetector:
    """An MMDetection detector over batches of BGR frames.

    Args:
        config (str): detector config (a file or ``mmdet::<path>`` in the mmdet package).
        checkpoint (str, optional): weights (path or URL); None: random weights (plumbing).
        device (str): ``cpu``, ``cuda``, ``cuda:1``.
        cfg_options (dict, optional): overrides merged into the config.
        seed (int): seeds torch before the model is built (the random weights of a run
            without checkpoint).

    ``self(frames)`` -> per frame ``(bboxes float32 [N, 4] x1 y1 x2 y2 in pixels of the
    frame, scores float32 [N], labels int64 [N])``; ``self.classes`` the class names of the
    detector's dataset (``dataset_meta`` of the checkpoint, COCO's without one).
    """

    def __init__(self, config: str, checkpoint: Optional[str], device: str = 'cpu',
                 cfg_options: Optional[dict] = None, seed: int = 0):
        require_mmdet()
        import torch
        from mmdet.apis import init_detector
        from mmdet.utils import get_test_pipeline_cfg
        from mmengine.config import Config
        from mmengine.dataset import Compose
        cfg = Config.fromfile(config)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        if 'init_cfg' in cfg.model.get('backbone', {}):
            cfg.model.backbone.init_cfg = None  # no ImageNet download: weights come next
        self.config_text = cfg.pretty_text
        torch.manual_seed(seed)
        with mmdet_scope():
            self.model = init_detector(cfg, checkpoint, palette='random', device=device)
            pipeline = []
            for t in get_test_pipeline_cfg(cfg):
                t = dict(t)
                if 'LoadAnnotations' in t['type']:
                    continue  # no ground truth at inference
                if not pipeline:  # the image loader: frames come as arrays
                    t = dict(type='mmdet.LoadImageFromNDArray')
                pipeline.append(t)
            self.pipeline = Compose(pipeline)
        self.classes = tuple(self.model.dataset_meta['classes'])

    def __call__(self, frames: Sequence[np.ndarray]):
        import torch
        from mmengine.dataset import pseudo_collate
        with mmdet_scope(), torch.no_grad():
            data = pseudo_collate([self.pipeline(dict(img=f, img_id=k))
                                   for k, f in enumerate(frames)])
            results = self.model.test_step(data)
        out = []
        for r in results:
            p = r.pred_instances
            out.append((p.bboxes.float().cpu().numpy().reshape(-1, 4),
                        p.scores.float().cpu().numpy().reshape(-1),
                        p.labels.long().cpu().numpy().reshape(-1)))
        return out


class ByteTrack:
    """MMDetection's ``ByteTracker`` on per-frame detections (numpy in, numpy out).

    Args:
        score_thr (float): detections at or above start tracks and are associated first
            (ByteTrack's ``obj_score_thrs.high`` and ``init_track_thr``).
        low_score_thr (float): detections in ``[low_score_thr, score_thr)`` only continue
            tracks (the second association); below it they are dropped.
        **options: other ``ByteTracker`` arguments (default :data:`BYTETRACK_DEFAULTS`).

    ``self(frame_index, bboxes, scores, labels)`` (frame_index 0, 1, ... within the video;
    0 resets) -> ``(bboxes [M, 4], scores [M], labels [M], track_ids [M])``.
    """

    def __init__(self, score_thr: float = 0.5, low_score_thr: float = 0.1, **options):
        require_mmdet()
        from mmdet.registry import MODELS
        cfg = dict(BYTETRACK_DEFAULTS, type='ByteTracker', motion=dict(type='KalmanFilter'),
                   obj_score_thrs=dict(high=score_thr, low=low_score_thr),
                   init_track_thr=score_thr)
        cfg.update(options)
        self.cfg = cfg
        self.low_score_thr = low_score_thr
        with mmdet_scope():
            self.tracker = MODELS.build(cfg)

    def reset(self):
        self.tracker.reset()

    def __call__(self, frame_index, bboxes, scores, labels):
        import torch
        from mmdet.structures import DetDataSample
        from mmengine.structures import InstanceData
        keep = scores >= self.low_score_thr
        sample = DetDataSample(metainfo=dict(frame_id=int(frame_index)))
        sample.pred_instances = InstanceData(
            bboxes=torch.as_tensor(bboxes[keep], dtype=torch.float32).reshape(-1, 4),
            scores=torch.as_tensor(scores[keep], dtype=torch.float32),
            labels=torch.as_tensor(labels[keep], dtype=torch.long))
        out = self.tracker.track(sample)
        return (out.bboxes.cpu().numpy().reshape(-1, 4), out.scores.cpu().numpy(),
                out.labels.cpu().numpy(), out.instances_id.cpu().numpy())


# ------------------------------------------------------------------------------ the format
def track_video(video_id, path, detect, tracker, stride=1, batch_size=8, progress=False):
    """Detect and track one video.

    Returns:
        ``(frames, (H, W))``: ``frames`` = ``[(frame_number, [(track_id, label, score, x1, y1,
        x2, y2), ...]), ...]`` for every processed frame, boxes clipped to the frame (pixels),
        empty boxes dropped.
    """
    tracker.reset()
    frames, size, k = [], None, 0
    bar = None
    try:
        for nums, imgs, total in iter_frames(video_id, path, stride, batch_size):
            if progress and bar is None:
                bar = tqdm(total=total, desc=video_id, unit='frame', leave=False)
            size = imgs[0].shape[:2]
            h, w = size
            for num, (bb, sc, lb) in zip(nums, detect(imgs)):
                bb, sc, lb, ids = tracker(k, np.asarray(bb, np.float32),
                                          np.asarray(sc, np.float32), np.asarray(lb, np.int64))
                k += 1
                boxes = []
                for (x1, y1, x2, y2), s, lab, tid in zip(bb.tolist(), sc.tolist(), lb.tolist(),
                                                         ids.tolist()):
                    x1, x2 = min(max(x1, 0.0), w), min(max(x2, 0.0), w)
                    y1, y2 = min(max(y1, 0.0), h), min(max(y2, 0.0), h)
                    if x2 > x1 and y2 > y1 and np.isfinite(s):
                        boxes.append((int(tid), int(lab), float(s), x1, y1, x2, y2))
                frames.append((num, boxes))
            if bar is not None:
                bar.update(len(nums))
    finally:
        if bar is not None:
            bar.close()
    if size is None:
        raise DetectionError(f'video {video_id}: no frames in {path}')
    return frames, size


def select_tracks(frames, hand_labels, max_objects=2, max_hands=2, min_track_len=1):
    """Rank the tracks of a video: ``(objects, hands)``, track ids best first.

    A track's rank is its summed score over frames (ties: the lower id); tracks seen on fewer
    than ``min_track_len`` frames are dropped; a track is a hand when its label is in
    ``hand_labels``. At most ``max_objects`` / ``max_hands`` are kept.
    """
    total: Dict[int, float] = {}
    count: Dict[int, int] = {}
    label: Dict[int, int] = {}
    for _, boxes in frames:
        for tid, lab, s, *_ in boxes:
            total[tid] = total.get(tid, 0.0) + s
            count[tid] = count.get(tid, 0) + 1
            label.setdefault(tid, lab)
    ranked = sorted((t for t in total if count[t] >= min_track_len),
                    key=lambda t: (-total[t], t))
    objects = [t for t in ranked if label[t] not in hand_labels][:max_objects]
    hands = [t for t in ranked if label[t] in hand_labels][:max_hands]
    return objects, hands


def to_something_else(video_id, frames, classes, hand_labels=(), max_objects=2, max_hands=2,
                      min_track_len=1, decimals=2):
    """Tracked frames (:func:`track_video`) -> the Something-Else frame list of one video.

    Every processed frame gets an entry ``{name: "<video_id>/<n:04d>.jpg", labels,
    gt_placeholders, nr_instances}`` (``labels`` may be empty); object ``k`` (the k-th ranked
    object track, :func:`select_tracks`) has ``gt_annotation "object k"`` and
    ``standard_category "%04d" % k``, a hand track ``"object hand"`` / ``"hand"``;
    ``category`` is the detector's class name; ``track_id`` and ``score`` are kept as extra
    fields. Within a frame: objects by k, then hands by rank.
    """
    objects, hands = select_tracks(frames, set(hand_labels), max_objects, max_hands,
                                   min_track_len)
    slot = {t: k for k, t in enumerate(objects)}
    hand_rank = {t: k for k, t in enumerate(hands)}
    labels_of: Dict[int, int] = {}
    for _, boxes in frames:
        for b in boxes:
            labels_of.setdefault(b[0], b[1])
    placeholders = [classes[labels_of[t]] for t in objects]
    out = []
    for num, boxes in frames:
        objs = sorted((b for b in boxes if b[0] in slot), key=lambda b: slot[b[0]])
        hnds = sorted((b for b in boxes if b[0] in hand_rank), key=lambda b: hand_rank[b[0]])
        labels = []
        for b in objs + hnds:
            tid, lab, s, x1, y1, x2, y2 = b
            k = slot.get(tid)
            labels.append(dict(
                box2d=dict(x1=round(x1, decimals), y1=round(y1, decimals),
                           x2=round(x2, decimals), y2=round(y2, decimals)),
                category=classes[lab],
                standard_category='hand' if k is None else f'{k:04d}',
                gt_annotation='object hand' if k is None else f'object {k}',
                track_id=tid, score=round(s, 4)))
        out.append(dict(name=f'{video_id}/{num:04d}.jpg', labels=labels,
                        gt_placeholders=placeholders, nr_instances=len(objects) + len(hands)))
    return out


# ------------------------------------------------------------------------- files and resume
def write_json_atomic(path: str, obj) -> None:
    """``json.dump`` through the plugin's atomic writer (temporary file, fsync, rename): a
    reader (or a rerun after a kill) sees the old file or the whole new one."""
    from mmdistill_plugin.engine.atomic_local_backend import atomic_write
    atomic_write(json.dumps(obj).encode(), path)


def check_stamp(work_dir: str, stamp: dict, write: bool) -> None:
    """Write ``run.json`` in a new work dir, or check an existing one equals ``stamp``.

    Raises:
        ValueError: the work dir was made with other settings; names each differing key with
            both values.
    """
    path = osp.join(work_dir, STAMP_FILE)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        diff = [k for k in sorted(set(old) | set(stamp)) if old.get(k) != stamp.get(k)]
        if diff:
            what = '; '.join(f'{k}: {old.get(k)!r} -> {stamp.get(k)!r}'
                             if k != 'det_config_sha256' else 'the detector config changed'
                             for k in diff)
            raise ValueError(f'{work_dir} holds videos made with other settings ({what}): '
                             f'give another --work-dir, or --overwrite to redo them')
    elif write:
        write_json_atomic(path, stamp)


def part_path(work_dir: str, video_id: str) -> str:
    return osp.join(work_dir, f'{video_id}.json')


def load_part(work_dir: str, video_id: str) -> Optional[list]:
    """The finished frame list of ``video_id``, or None (not done, or unreadable: redone)."""
    p = part_path(work_dir, video_id)
    if not osp.isfile(p):
        return None
    try:
        with open(p) as f:
            part = json.load(f)
        if part.get('video_id') == video_id and isinstance(part.get('frames'), list):
            return part['frames']
    except (OSError, ValueError, AttributeError):
        pass
    return None


def validate_frames(video_id: str, frames: list, where: str) -> None:
    """Check one video's frames with the plugin's Something-Else schema (what
    ``load_box_annotations`` accepts)."""
    from mmdistill_plugin.datasets.schemas import validate_records
    from mmdistill_plugin.datasets.schemas.base import loc_text
    from mmdistill_plugin.datasets.schemas.ssv2 import BOX_FILE
    validate_records(BOX_FILE, {video_id: frames}, where,
                     where=lambda loc: (f'video {video_id}', loc_text(loc[1:])))


# ----------------------------------------------------------------------------------- main
def _probability(text):
    v = float(text)
    if not 0.0 <= v <= 1.0:
        raise argparse.ArgumentTypeError(f'must be in [0, 1], got {v}')
    return v


def _positive(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f'must be >= 1, got {v}')
    return v


def _count(text):
    v = int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f'must be >= 0, got {v}')
    return v


def parse_args(argv=None):
    from mmengine.config import DictAction
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split('\n\n', 1)[1])
    p.add_argument('inputs', nargs='+', metavar='VIDEO_OR_FRAMES',
                   help='video files, frame folders, or folders of those')
    p.add_argument('--out', required=True, help='the Something-Else box file to write (.json)')
    p.add_argument('--work-dir', help='per-video results, for resuming (default: <out>_parts)')
    p.add_argument('--det-config', default=DEFAULT_DET_CONFIG,
                   help=f'MMDetection config (default {DEFAULT_DET_CONFIG})')
    p.add_argument('--checkpoint', default=None,
                   help='detector weights, path or URL (default: the published weights of the '
                        'default config; for another config its load_from; "none": random '
                        'weights, for plumbing checks only)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='override detector config settings (key=value), as tools/train.py')
    p.add_argument('--device', default=None, help='default: cuda if available, else cpu')
    p.add_argument('--batch-size', type=_positive, default=8, help='frames per forward')
    p.add_argument('--frame-stride', type=_positive, default=1,
                   help='detect every n-th frame (1: every frame, as Something-Else)')
    p.add_argument('--score-thr', type=_probability, default=0.5,
                   help='detections at or above start and extend tracks')
    p.add_argument('--low-score-thr', type=_probability, default=0.1,
                   help='detections in [low, score-thr) only extend tracks (ByteTrack)')
    p.add_argument('--tracker-options', nargs='+', action=DictAction, default=None,
                   help='ByteTracker arguments, e.g. num_frames_retain=60 '
                        'match_iou_thrs.high=0.2')
    p.add_argument('--max-objects', type=_count, default=2,
                   help='object tracks kept per video (object 0..n-1)')
    p.add_argument('--max-hands', type=_count, default=2, help='hand tracks kept per video')
    p.add_argument('--hand-classes', nargs='*', default=['person'],
                   help='detector classes written as "object hand" (none: no hands)')
    p.add_argument('--classes', nargs='+', default=None,
                   help='keep only these detector classes (default: all)')
    p.add_argument('--min-track-len', type=_positive, default=1,
                   help='drop tracks seen on fewer frames')
    p.add_argument('--seed', type=int, default=0, help='torch seed (random weights only)')
    p.add_argument('--overwrite', action='store_true',
                   help='redo every video of the work dir (new settings)')
    p.add_argument('--keep-going', action='store_true',
                   help='write --out without the videos that failed (reported) instead of '
                        'exiting 1 without it')
    p.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none',
                   help='distributed launcher: each rank does a shard of the videos')
    return p.parse_args(argv)


def _class_indices(names, classes, option):
    unknown = [n for n in names if n not in classes]
    if unknown:
        raise ValueError(f'{option}: {unknown} not among the detector\'s {len(classes)} '
                         f'classes (e.g. {list(classes[:5])})')
    return sorted(classes.index(n) for n in names)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch
    from mmengine.dist import all_gather_object, barrier, get_dist_info, init_dist, is_main_process

    if args.launcher != 'none':
        import datetime

        import mmdistill_plugin  # noqa: F401  (CPU-only torch.distributed guard)
        backend = 'nccl' if torch.cuda.is_available() else 'gloo'
        # ranks wait for each other only at the end, after their whole shard
        init_dist(args.launcher, backend=backend, timeout=datetime.timedelta(days=7))
    rank, world = get_dist_info()
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if device == 'cuda' and world > 1:
        device = f'cuda:{torch.cuda.current_device()}'
    sources = collect_sources(args.inputs)
    work_dir = args.work_dir or (osp.splitext(args.out)[0] + '_parts')

    checkpoint = args.checkpoint
    if checkpoint is None:
        if args.det_config == DEFAULT_DET_CONFIG:
            checkpoint = DEFAULT_CHECKPOINT
        else:
            from mmengine.config import Config
            checkpoint = Config.fromfile(args.det_config).get('load_from')
            if not checkpoint:
                raise ValueError(f'{args.det_config} names no weights (load_from): give '
                                 f'--checkpoint (or "--checkpoint none" for random weights)')
    if str(checkpoint).lower() == 'none':
        checkpoint = None
    detector = MMDetDetector(args.det_config, checkpoint, device, args.cfg_options, args.seed)
    classes = detector.classes
    hand_labels = _class_indices(args.hand_classes, classes, '--hand-classes')
    keep = (None if args.classes is None else
            np.asarray(_class_indices(args.classes, classes, '--classes')))
    tracker = ByteTrack(args.score_thr, args.low_score_thr, **(args.tracker_options or {}))

    def detect(frames):
        out = detector(frames)
        if keep is None:
            return out
        return [(b[np.isin(lb, keep)], s[np.isin(lb, keep)], lb[np.isin(lb, keep)])
                for b, s, lb in out]

    stamp = dict(format_version=FORMAT_VERSION, det_config=args.det_config,
                 det_config_sha256=hashlib.sha256(detector.config_text.encode()).hexdigest(),
                 checkpoint=checkpoint, seed=args.seed if checkpoint is None else None,
                 classes=list(classes), tracker=json.loads(json.dumps(tracker.cfg)),
                 frame_stride=args.frame_stride, max_objects=args.max_objects,
                 max_hands=args.max_hands, hand_classes=sorted(args.hand_classes),
                 keep_classes=None if args.classes is None else sorted(args.classes),
                 min_track_len=args.min_track_len)
    if rank == 0:
        os.makedirs(work_dir, exist_ok=True)
        if args.overwrite and osp.isfile(osp.join(work_dir, STAMP_FILE)):
            os.remove(osp.join(work_dir, STAMP_FILE))
        check_stamp(work_dir, stamp, write=True)
    barrier()
    if rank != 0:
        check_stamp(work_dir, stamp, write=False)

    mine = sources[rank::world]
    failures, done, skipped = [], 0, 0
    start = time.time()
    bar = tqdm(mine, desc=f'videos (rank {rank})' if world > 1 else 'videos', unit='video',
               disable=rank != 0 and world > 1)
    for vid, path in bar:
        if not args.overwrite and load_part(work_dir, vid) is not None:
            skipped += 1
            continue
        try:
            frames, size = track_video(vid, path, detect, tracker, args.frame_stride,
                                       args.batch_size, progress=rank == 0)
            se = to_something_else(vid, frames, classes, hand_labels, args.max_objects,
                                   args.max_hands, args.min_track_len)
            validate_frames(vid, se, part_path(work_dir, vid))
        except DetectionError as err:
            failures.append((vid, path, str(err)))
            tqdm.write(f'error: {err}', file=sys.stderr)
            continue
        except Exception as err:  # noqa: BLE001 - named with the video, the run goes on
            failures.append((vid, path, f'{type(err).__name__}: {err}'))
            tqdm.write(f'error: video {vid} ({path}): {type(err).__name__}: {err}',
                       file=sys.stderr)
            continue
        write_json_atomic(part_path(work_dir, vid), dict(
            video_id=vid, source=path, frame_size=list(size), frames=se))
        done += 1
    bar.close()
    print(f'rank {rank}: {done} video(s) detected, {skipped} already done, '
          f'{len(failures)} failed, {time.time() - start:.1f} s', flush=True)

    if world > 1:
        failures = [f for part in all_gather_object(failures) for f in part]
    if not is_main_process():
        return 0 if not failures or args.keep_going else 1
    for vid, path, err in failures:
        print(f'failed: video {vid} ({path}): {err}', file=sys.stderr)
    if failures and not args.keep_going:
        print(f'{len(failures)} of {len(sources)} video(s) failed: {args.out} not written '
              f'(finished videos are kept in {work_dir}; rerun to resume, or --keep-going)',
              file=sys.stderr)
        return 1
    failed = {f[0] for f in failures}
    merged = {}
    for vid, _ in sources:
        if vid in failed:
            continue
        frames = load_part(work_dir, vid)
        if frames is None:
            raise RuntimeError(f'{part_path(work_dir, vid)} is missing or unreadable after '
                               f'the run (removed meanwhile?): rerun')
        merged[vid] = frames
    write_json_atomic(args.out, merged)
    n_boxes = sum(len(fr['labels']) for v in merged.values() for fr in v)
    print(f'{args.out}: {len(merged)} video(s), {sum(map(len, merged.values()))} frames, '
          f'{n_boxes} boxes' + (f'; {len(failures)} failed video(s) left out'
                                if failures else ''))
    return 0


if __name__ == '__main__':
    from mmdistill_plugin.utils.compat import run_main
    run_main(main)  # --launcher: ends the process group, then the rank (compat fix 6)
