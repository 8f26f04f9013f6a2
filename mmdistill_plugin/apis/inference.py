# Copyright (c) mmdistill contributors.
"""Inference on a raw video, MMAction2 style (``mmaction.apis.init_recognizer`` /
``inference_recognizer``), for the plugin's multimodal recognizers.

An RGB student exported by ``tools/export_student.py`` is a plain MMAction2 recognizer: use
MMAction2's own ``init_recognizer`` / ``inference_recognizer`` (``demo/demo_rgb.py``). A
multimodal student (``MultimodalRecognizer``: KARMMA) needs inputs a video file does not hold
as such; :func:`inference_multimodal_recognizer` computes what it can from the video and marks
the rest missing, so the model's missing-modality path (KARMMA's learned tokens, Eq. 6) is used:

* ``rgb``: the video's frames (the config's ``LoadRGBFrames``);
* ``flow``: TV-L1 optical flow (Farneback without opencv-contrib) of the frame pairs the clip
  needs, computed and quantised by the project's flow extraction
  (``tools/data/extract_flow.py``: the same ±20 px JPEGs the datasets store), read back by the
  config's ``LoadFlowFrames``;
* ``audio``: the video's audio track (decord), resampled and turned into the log-mel
  spectrogram by the config's ``LoadAudioLogMel``; missing when the video has no audio track;
* ``boxes``, ``depth``: not computable from a video (they need a detector / a depth sensor):
  missing.

Everything else (frame sampling, resizing, packing) is the config's test pipeline.
"""
import copy
import csv
import importlib.util
import json
import os
import os.path as osp
import tempfile
import wave
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

#: the loader transform of each modality
LOADERS = dict(rgb='LoadRGBFrames', flow='LoadFlowFrames', audio='LoadAudioLogMel',
               boxes='LoadBoxes', depth='LoadDepthFrames')
_FLOW_TMPL = '{}_{:05d}.jpg'
_REPO_TOOLS = ('tools', 'data', 'extract_flow.py')


def _type_name(t) -> str:
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def class_names(dataset_cfg: Optional[dict]) -> Optional[Dict[str, List[str]]]:
    """Class names per head from a dataset config, or None when the config does not name them.

    ``metainfo.classes`` (any dataset; ``{'item': [...]}``), the SSv2 ``labels_file``
    (``{'item': names by id}``), or the EPIC-100 ``verb_classes_file`` / ``noun_classes_file``
    (``{'verb': [...], 'noun': [...]}``). Files that do not exist give None.
    """
    if not isinstance(dataset_cfg, dict):
        return None
    meta = dataset_cfg.get('metainfo') or {}
    if meta.get('classes'):
        return dict(item=list(meta['classes']))
    labels = dataset_cfg.get('labels_file')
    if labels and osp.isfile(labels):
        with open(labels) as f:
            ids = {k: int(v) for k, v in json.load(f).items()}
        return dict(item=[k for k, _ in sorted(ids.items(), key=lambda kv: kv[1])])
    out = {}
    for head in ('verb', 'noun'):
        path = dataset_cfg.get(f'{head}_classes_file')
        if path and osp.isfile(path):
            with open(path, newline='') as f:
                rows = sorted(csv.DictReader(f), key=lambda r: int(r['id']))
            out[head] = [r['key'] for r in rows]
    return out or None


def student_model_config(cfg: Config, student_key: str = 'student') -> dict:
    """The recognizer config to run: ``cfg.model``, or its ``student_key`` sub-config for a
    distillation config (``DistillRecognizer``)."""
    model = cfg.model
    if student_key in model and isinstance(model[student_key], dict):
        return copy.deepcopy(model[student_key])
    return copy.deepcopy(model)


def init_multimodal_recognizer(config: Union[str, Config], checkpoint: Optional[str] = None,
                               device: Union[str, torch.device] = 'cpu',
                               student_key: str = 'student') -> torch.nn.Module:
    """Build the recognizer of ``config`` (the student of a distillation config), load
    ``checkpoint`` (an exported student, or a distillation checkpoint: its ``student.`` keys),
    move it to ``device`` in eval mode and keep the config as ``model.cfg``. ``checkpoint`` may be
    a work dir (its ``last_checkpoint``).

    Raises:
        FileNotFoundError: ``checkpoint`` does not exist.
        RuntimeError: its weights do not fit the model (strict load, keys named).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else config
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    from mmaction.registry import MODELS
    model = MODELS.build(student_model_config(cfg, student_key))
    if checkpoint is not None:
        if osp.isdir(checkpoint):  # a work dir: its last_checkpoint
            from mmdistill_plugin.models.utils import resolve_checkpoint
            checkpoint = resolve_checkpoint(checkpoint)
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(f'checkpoint {checkpoint} does not exist')
        state = torch.load(checkpoint, map_location='cpu', weights_only=False)
        state = state.get('state_dict', state)
        prefix = f'{student_key}.'
        if any(k.startswith(prefix) for k in state):
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
            with tempfile.TemporaryDirectory() as tmp:
                path = osp.join(tmp, 'student.pth')
                torch.save(dict(state_dict=state), path)
                load_checkpoint(model, path, map_location='cpu', strict=True)
        else:
            load_checkpoint(model, checkpoint, map_location='cpu', strict=True)
    model.cfg = cfg
    return model.to(device).eval()


def _extract_flow_module():
    """``tools/data/extract_flow.py`` (beside the package in the repository, or in its ``.mim``)."""
    here = osp.dirname(osp.dirname(osp.abspath(__file__)))
    for root in (osp.join(here, '.mim'), osp.dirname(here)):
        path = osp.join(root, *_REPO_TOOLS)
        if osp.isfile(path):
            spec = importlib.util.spec_from_file_location('mmdistill_extract_flow', path)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            return module
    raise FileNotFoundError('tools/data/extract_flow.py not found beside the package nor in '
                            'mmdistill_plugin/.mim/tools')


def _read_frames(path: str, indices: Sequence[int]) -> Dict[int, np.ndarray]:
    """BGR frames (1-based numbers ``indices``) of a video, decord else OpenCV."""
    from mmdistill_plugin.datasets.transforms.loading import _open_video, _read_video_cv2
    zero_based = sorted({int(i) - 1 for i in indices})
    try:
        vr = _open_video(path)
        arr = vr.get_batch(zero_based).asnumpy()[..., ::-1]
    except Exception:  # noqa: BLE001 - decord fails on some files OpenCV reads
        arr = _read_video_cv2(path, zero_based, path)
    return {i + 1: np.ascontiguousarray(a) for i, a in zip(zero_based, arr)}


def _video_length(path: str) -> Tuple[int, float]:
    """Frame count and frame rate of a video (decord, else OpenCV)."""
    import cv2
    try:
        from mmdistill_plugin.datasets.transforms.loading import _open_video
        vr = _open_video(path)
        return len(vr), float(vr.get_avg_fps())
    except Exception:  # noqa: BLE001
        cap = cv2.VideoCapture(path)
        try:
            return int(cap.get(cv2.CAP_PROP_FRAME_COUNT)), float(cap.get(cv2.CAP_PROP_FPS))
        finally:
            cap.release()


def _write_audio_track(video: str, wav_path: str, sample_rate: int) -> Optional[str]:
    """The video's audio track as a mono 16-bit wav, or the reason it cannot be read."""
    try:
        import decord
        samples = decord.AudioReader(video, sample_rate=sample_rate, mono=True).asnumpy()
    except Exception as err:  # noqa: BLE001 - decord raises its own error types
        return str(err).strip().splitlines()[-1] if str(err).strip() else type(err).__name__
    samples = np.asarray(samples, np.float32).reshape(-1)
    if samples.size == 0:
        return 'the audio track is empty'
    pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).round().astype('<i2')
    with wave.open(wav_path, 'wb') as f:
        f.setnchannels(1)
        f.setsampwidth(2)
        f.setframerate(sample_rate)
        f.writeframes(pcm.tobytes())
    return None


def prepare_video_sample(cfg: Config, video: str, work_dir: str,
                         flow_algorithm: str = 'tvl1', flow_short_side: int = 0,
                         drop: Sequence[str] = ()) -> Tuple[dict, Dict[str, str]]:
    """The packed test sample of ``video`` (the whole video as one segment) for ``cfg``.

    Args:
        cfg: the student's config; its ``test_pipeline`` (else the test dataset's pipeline)
            samples, loads, resizes and packs the modalities.
        work_dir: folder for the computed flow JPEGs and audio wav.
        flow_algorithm: ``'tvl1'`` or ``'farneback'`` (``extract_flow.compute_flow``).
        flow_short_side: resize frames to this short side before computing flow (0: keep).
        drop: modalities to leave out on purpose (``MissingModalities``).

    Returns:
        ``(packed sample, report)``; ``report[modality]`` says what was computed, or
        ``'missing: <reason>'``.

    Raises:
        FileNotFoundError: ``video`` does not exist.
        ValueError: the pipeline loads no modality the demo knows.
    """
    if not osp.isfile(video):
        raise FileNotFoundError(f'video {video} does not exist')
    # the test loader's pipeline first: a toy config keeps its paper base's test_pipeline
    loader_cfg = cfg.get('test_dataloader') or {}
    pipeline = copy.deepcopy((loader_cfg.get('dataset') or {}).get('pipeline')
                             or cfg.get('test_pipeline'))
    names = [_type_name(t['type']) for t in pipeline]
    loaders = {m: names.index(t) for m, t in LOADERS.items() if t in names}
    if not loaders:
        raise ValueError(f'the test pipeline {names} loads no modality '
                         f'({sorted(LOADERS.values())})')
    dataset = loader_cfg.get('dataset') or {}
    modalities = tuple(dataset.get('modalities') or
                       [m for m in LOADERS if m in loaders])
    n_frames, fps = _video_length(video)
    if n_frames < 1:
        raise ValueError(f'cannot decode any frame of {video}')
    os.makedirs(work_dir, exist_ok=True)
    results = dict(filename=video, total_frames=n_frames, start_index=1, modality='RGB',
                   sample_idx=0, video_id=osp.splitext(osp.basename(video))[0],
                   modalities=modalities, label=None)
    first = min(loaders.values())
    results = Compose(pipeline[:first])(results)
    report, missing = {}, []

    report['rgb'] = f'{n_frames} frames at {fps:.1f} fps, decoded from the video'
    if 'flow' in loaders:
        loader = pipeline[loaders['flow']]
        ratio = int(loader.get('ratio') or dataset.get('rgb_to_flow_ratio') or 1)
        n_flow = max(1, (n_frames - 1) // ratio)
        inds = np.asarray(results['frame_inds']).reshape(-1).astype(np.int64)
        needed = sorted(set(np.clip((inds - 1) // ratio + 1, 1, n_flow).tolist()))
        firsts = {j: min((j - 1) * ratio + 1, n_frames) for j in needed}
        seconds = {j: min(firsts[j] + ratio, n_frames) for j in needed}
        frames = _read_frames(video, sorted(set(firsts.values()) | set(seconds.values())))
        ef = _extract_flow_module()
        flow_dir = osp.join(work_dir, 'flow')
        algorithm = ef.resolve_algorithm(flow_algorithm)
        for j in needed:
            pair = [ef.resize_short(frames[k], flow_short_side) for k in (firsts[j], seconds[j])]
            q = ef.quantize_flow(ef.compute_flow(pair, algorithm))
            ef.write_flow(q, flow_dir, '{axis}_{idx:05d}.jpg', ('x', 'y'), start_idx=j)
        pipeline[loaders['flow']] = dict(loader, filename_tmpl=_FLOW_TMPL,
                                         components=('x', 'y'), ratio=ratio)
        results.update(flow_dir=flow_dir, flow_total_frames=n_flow)
        report['flow'] = (f'{algorithm} optical flow of {len(needed)} frame pair(s) '
                          f'(tools/data/extract_flow.py)')
    if 'audio' in loaders:
        loader = pipeline[loaders['audio']]
        wav = osp.join(work_dir, 'audio.wav')
        error = _write_audio_track(video, wav, int(loader.get('sample_rate', 16000)))
        if error is None:
            results['audio_path'] = wav
            report['audio'] = 'the video\'s audio track'
        else:
            missing.append('audio')
            report['audio'] = f'missing: no audio track ({error})'
    for m in ('boxes', 'depth'):
        if m in loaders:
            missing.append(m)
            report[m] = f'missing: {m} cannot be computed from a video'
    for m in drop:
        if m not in modalities:
            raise ValueError(f'--drop {m}: the model has no modality {m!r} ({modalities})')
        report[m] = 'missing: left out on request (--drop)'

    # loaders, then the rest of the pipeline; modalities that cannot be computed are filled with
    # zeros and masked (the missing-modality path)
    last = max(loaders.values())
    by_loader = {t: m for m, t in LOADERS.items()}
    for t in pipeline[first:last + 1]:
        mod = by_loader.get(_type_name(t['type']))
        if mod in missing:
            results = _zero_fill(results, mod, t)
        else:
            results = Compose([t])(results)
    rest = pipeline[last + 1:]
    pack = next((i for i, t in enumerate(rest) if 'Pack' in _type_name(t['type'])), len(rest))
    dropped = sorted(set(missing) | set(drop))
    if dropped:
        rest.insert(pack, dict(type='MissingModalities', drop=dropped, keep_at_least_one=False))
    return Compose(rest)(results), report


def _zero_fill(results: dict, modality: str, loader: dict) -> dict:
    """Zeros of the loader's output shape for a modality the demo cannot compute (masked), as
    the loaders' own ``allow_missing`` fill."""
    from mmdistill_plugin.datasets.transforms._utils import set_present
    t = len(np.asarray(results['frame_inds']).reshape(-1))
    if modality == 'audio':
        results['audio'] = np.zeros((int(loader.get('num_frames', 1024)),
                                     int(loader.get('n_mels', 128))), np.float32)
    elif modality == 'boxes':
        results['boxes'] = np.zeros((t, int(loader.get('max_boxes', 4)), 6), np.float32)
    else:
        h, w = results.get('img_shape', (224, 224))
        results['depth'] = np.zeros((t, h, w, 1), np.uint8)
    set_present(results, modality, False)
    return results


def inference_multimodal_recognizer(model: torch.nn.Module, video: str,
                                    work_dir: Optional[str] = None, **kwargs):
    """Run ``model`` (from :func:`init_multimodal_recognizer`) on ``video``.

    Returns:
        ``(data sample, report)``: the ``ActionDataSample`` with ``pred_scores.<head>``
        (probabilities; ``item`` for a single head) and the modalities it got, and ``report``
        (see :func:`prepare_video_sample`; keyword arguments are passed to it).
    """
    with tempfile.TemporaryDirectory() as tmp:
        sample, report = prepare_video_sample(model.cfg, video, work_dir or tmp, **kwargs)
        with torch.no_grad():
            result = model.test_step(pseudo_collate([sample]))[0]
    return result, report


def scores_per_head(data_sample) -> Dict[str, torch.Tensor]:
    """``{head: probabilities [C]}`` of a data sample, MMAction2 1.1 (``pred_scores.<head>``)
    or 1.2 (``pred_score``: a tensor, or a dict per head)."""
    scores = getattr(data_sample, 'pred_scores', None)
    if scores is not None:
        scores = dict(scores.items())
    else:
        score = data_sample.pred_score
        scores = dict(score) if isinstance(score, dict) else dict(item=score)
    order = [h for h in ('item', 'verb', 'noun') if h in scores]
    return {h: scores[h] for h in order + sorted(set(scores) - set(order))}


def topk(scores: torch.Tensor, names: Optional[List[str]], k: int = 5) -> List[Tuple[str, float]]:
    """The ``k`` best classes: ``(name or index, probability)`` best first."""
    k = min(k, scores.numel())
    values, indices = scores.float().topk(k)
    return [(names[i] if names and i < len(names) else str(i), float(v))
            for v, i in zip(values.tolist(), indices.tolist())]
