# Copyright (c) mmdistill contributors.
"""Pack a multimodal results dict into ``dict(inputs=dict(modality -> Tensor), data_samples)``."""
from typing import Optional, Sequence

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.structures import LabelData

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample
from ._utils import VISUAL_MODALITIES

#: modalities packed as ``[N, C, T, H, W]``: the visual ones plus rendered video-like ones
#: (``boxes_image`` from :class:`RenderBoxes`).
VIDEO_LIKE_MODALITIES = VISUAL_MODALITIES + ('boxes_image', )


def _label_tensor(v) -> torch.Tensor:
    if isinstance(v, torch.Tensor):
        return v.long().reshape(-1)
    return torch.as_tensor(np.asarray(v).reshape(-1), dtype=torch.long)


@TRANSFORMS.register_module()
class PackMultimodalInputs(BaseTransform):
    """Pack per-modality arrays (docs/data_model.md "Packed sample").

    ``inputs[m]`` (``N = num_crops * num_clips``, ``T = clip_len``):
    ``rgb`` / ``flow`` / ``depth`` / ``rgb_diff`` / ``boxes_image``: float32
    ``[N, C, T, H, W]`` from ``[N*T, H, W, C]`` (same reshape as MMAction2's
    ``FormatShape('NCTHW')``);
    ``audio``: float32 ``[N, 1, F, M]`` (the segment's spectrogram repeated for each of the
    ``num_clips`` clips); ``boxes``: float32 ``[N, T, K, 6]``.

    ``data_samples``: ``ActionDataSample`` with ``gt_labels = LabelData(item=LongTensor[1])`` for an
    int label or ``LabelData(verb=..., noun=...)`` for a dict label (no ``gt_labels`` without a
    label), metainfo ``modality_mask``, ``modality_present`` (dicts of bool; the mask is forced to
    a subset of present), ``modalities`` (tuple) and the ``meta_keys`` found in results
    (``view``: the sample's replayable random draws); ``teacher_logits`` =
    ``LabelData(head -> float32 [C])`` when the results carry cached teacher logits.

    Args:
        modalities (Sequence[str], optional): modalities to pack; default
            ``results['modalities']``. A listed modality missing from results raises ``KeyError``.
        meta_keys (Sequence[str]): extra results keys copied into the metainfo when present.
    """

    def __init__(self, modalities: Optional[Sequence[str]] = None,
                 meta_keys: Sequence[str] = ('sample_idx', 'video_id', 'narration_id',
                                             'participant_id', 'start_timestamp',
                                             'stop_timestamp', 'frame_inds', 'img_shape',
                                             'flip', 'crop_bbox', 'num_clips', 'clip_len',
                                             'omnivore_modality', 'view')
                 ) -> None:
        self.modalities = tuple(modalities) if modalities is not None else None
        self.meta_keys = tuple(meta_keys)

    def transform(self, results: dict) -> dict:
        mods = self.modalities or tuple(results.get('modalities', ()))
        if not mods:
            raise KeyError('PackMultimodalInputs: no modalities given and results has none')
        num_clips = int(results.get('num_clips', 1))
        inputs = {}
        for m in mods:
            if m not in results:
                raise KeyError(f'PackMultimodalInputs: modality {m!r} not in results '
                               f'(add its loader to the pipeline)')
            arr = np.asarray(results[m])
            if m in VIDEO_LIKE_MODALITIES:
                clip_len = int(results.get('clip_len', arr.shape[0] // num_clips))
                x = arr.reshape((-1, num_clips, clip_len) + arr.shape[1:])
                x = np.transpose(x, (0, 1, 5, 2, 3, 4))
                x = x.reshape((-1, ) + x.shape[2:])
            elif m == 'audio':
                x = np.broadcast_to(arr[None, None], (num_clips, 1) + arr.shape)
            elif m == 'boxes':
                clip_len = int(results.get('clip_len', arr.shape[0] // num_clips))
                x = arr.reshape((-1, clip_len) + arr.shape[1:])
            else:
                x = arr
            # np.array copies: a broadcast (read-only) view must not reach torch.from_numpy.
            inputs[m] = torch.from_numpy(np.array(x, dtype=np.float32))

        present = {k: bool(v) for k, v in results.get('modality_present', {}).items()}
        mask = {k: bool(results.get('modality_mask', present).get(k, False) and v)
                for k, v in present.items()}
        sample = ActionDataSample()
        label = results.get('label')
        if label is not None:
            if isinstance(label, dict):
                sample.gt_labels = LabelData(**{k: _label_tensor(v) for k, v in label.items()})
            else:
                sample.gt_labels = LabelData(item=_label_tensor(label))
        meta = {k: results[k] for k in self.meta_keys if k in results}
        meta.update(modality_mask=mask, modality_present=present, modalities=tuple(mods))
        sample.set_metainfo(meta)
        teacher_logits = results.get('teacher_logits')
        if teacher_logits is not None:  # replayed from a teacher cache (TeacherCacheDataset)
            sample.teacher_logits = LabelData(**{
                h: torch.as_tensor(np.asarray(v, dtype=np.float32)) for h, v in
                teacher_logits.items()})
        return dict(inputs=inputs, data_samples=sample)

    def __repr__(self):
        return (f'{self.__class__.__name__}(modalities={self.modalities}, '
                f'meta_keys={self.meta_keys})')
