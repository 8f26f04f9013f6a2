# Copyright (c) mmdistill contributors.
"""STLT box-layout model as a standalone recognizer (boxes baseline / teacher member)."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModel
from torch import Tensor

from mmaction.registry import MODELS


@MODELS.register_module()
class BoxRecognizer(BaseModel):
    """STLT backbone + ``MultiHeadMLP`` head on object / hand box trajectories.

    The "Obj. detections" baseline of multimodal-teacher-rgb-student.txt (Table 1, STLT [15]),
    trained on its own and then used as a ``LogitEnsemble`` member (``modality='boxes'``) of the
    multimodal teacher.

    Pipeline: ``boxes [B, N, T, K, 6]`` -> fold ``N`` clips into the batch -> STLT tokens
    ``[B*N, T(+1), C]`` -> ``MultiHeadMLP`` (applied per token, logits averaged over tokens) ->
    ``dict(head -> [B*N, n])``. :meth:`forward_logits` and :meth:`loss` then average the logits
    over the ``N`` clips of each sample; :meth:`predict` passes the ``B*N`` rows to
    ``cls_head.predict_by_feat``, which merges clips with the head's ``average_clip``.

    Inputs (``inputs`` of every method), boxes are ``x1, y1, x2, y2`` normalised to [0, 1],
    category id (0 pad, 1 object, 2 hand), valid flag (docs/data_model.md):
        - a tensor ``[B, N, T, K, 6]`` (after the data preprocessor, which stacks the per-sample
          ``[N, T, K, 6]``) or ``[B, T, K, 6]`` (``N = 1``);
        - a list of per-sample ``[N, T, K, 6]`` tensors (stacked here);
        - a dict with key ``'boxes'`` (a multimodal batch). Note that ``ActionDataPreprocessor``
          cannot stack a dict: in a multimodal pipeline use
          ``data_preprocessor=dict(type='SelectModality', modality='boxes',
          preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))`` or a
          ``MultiModalDataPreprocessor`` with a ``boxes`` entry; as a ``LogitEnsemble`` member
          give ``modality='boxes'`` (the ensemble selects the key itself).

    Config example::

        model = dict(
            type='BoxRecognizer',
            backbone=dict(type='STLT', embed_dims=256, num_spatial_layers=4,
                          num_temporal_layers=8, num_heads=8, max_boxes=4, max_frames=16),
            cls_head=dict(type='MultiHeadMLP', in_channels=256, num_classes=174),
            data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))

    Args:
        backbone (dict): box encoder config, ``[B, T, K, 6] -> [B, T, C]`` (``STLT``).
        cls_head (dict): head config with ``forward`` (tokens -> dict of logits),
            ``loss_by_feat`` and ``predict_by_feat`` (``MultiHeadMLP``).
        data_preprocessor (dict, optional): default ``ActionDataPreprocessor(format_shape=
            'NCHW')`` without mean/std: it only stacks (and casts to float32).
        init_cfg (dict | list, optional): mmengine init config.

    Raises:
        ValueError: (at call time) boxes that are not ``[B, N, T, K, 6]`` / ``[B, T, K, 6]``,
            or a number of rows that is not a multiple of the number of data samples.
        KeyError: dict inputs without ``'boxes'``.
    """

    def __init__(self,
                 backbone: dict,
                 cls_head: dict,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor', format_shape='NCHW')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.backbone = MODELS.build(backbone)
        self.cls_head = MODELS.build(cls_head)

    # ------------------------------------------------------------------ #
    @staticmethod
    def _boxes(inputs) -> Tensor:
        """Normalise ``inputs`` to a float ``[B, N, T, K, 6]`` tensor."""
        if isinstance(inputs, dict):
            if 'boxes' not in inputs:
                raise KeyError(f'BoxRecognizer: dict inputs have no "boxes" '
                               f'({sorted(inputs)})')
            inputs = inputs['boxes']
        if isinstance(inputs, (list, tuple)):
            inputs = torch.stack(list(inputs))
        if inputs.dim() == 4:
            inputs = inputs.unsqueeze(1)
        if inputs.dim() != 5 or inputs.shape[-1] != 6:
            raise ValueError('BoxRecognizer expects boxes [B, N, T, K, 6] or [B, T, K, 6], got '
                             f'{tuple(inputs.shape)}')
        return inputs.float()

    def extract_feat(self, inputs, data_samples: Optional[Sequence] = None,
                     test_mode: bool = False) -> Tensor:
        """STLT tokens ``[B*N, T(+1), C]`` (clips folded into the batch, sample-major)."""
        boxes = self._boxes(inputs)
        return self.backbone(boxes.reshape((-1, ) + boxes.shape[2:]))

    def _clip_logits(self, inputs) -> Dict[str, Tensor]:
        """Per-clip logits ``dict(head -> [B*N, n])``."""
        return self.cls_head(self.extract_feat(inputs))

    @staticmethod
    def _average_clips(logits: Dict[str, Tensor], batch: int) -> Dict[str, Tensor]:
        out = {}
        for k, v in logits.items():
            if v.shape[0] % batch != 0:
                raise ValueError(f'head {k!r}: {v.shape[0]} rows is not a multiple of '
                                 f'{batch} samples')
            out[k] = v.reshape(batch, v.shape[0] // batch, -1).mean(dim=1)
        return out

    def forward_logits(self, inputs, data_samples: Optional[Sequence] = None,
                       test_mode: bool = False) -> Dict[str, Tensor]:
        """``dict(head -> [B, n])`` logits, mean over each sample's ``N`` clips (``B`` = rows of
        the boxes tensor; ``data_samples`` and ``test_mode`` are accepted for the
        ``recognizer_logits`` API and unused: use ``eval()`` to disable dropout)."""
        boxes = self._boxes(inputs)
        return self._average_clips(self._clip_logits(boxes), boxes.shape[0])

    def loss(self, inputs, data_samples: Sequence) -> dict:
        """``cls_head.loss_by_feat`` on the clip-averaged logits (``loss_cls``,
        ``top1_acc_<head>``)."""
        return self.cls_head.loss_by_feat(self.forward_logits(inputs, data_samples),
                                          data_samples)

    def predict(self, inputs, data_samples: Sequence) -> Sequence:
        """Data samples with ``pred_scores`` (softmax per head) and ``pred_labels`` set by
        ``cls_head.predict_by_feat`` (clips merged with its ``average_clip``)."""
        return self.cls_head.predict_by_feat(self._clip_logits(inputs), data_samples)

    def forward(self, inputs, data_samples: Optional[Sequence] = None,
                mode: str = 'tensor'):
        """``mode``: ``'loss'`` -> dict of losses, ``'predict'`` -> data samples,
        ``'tensor'`` -> :meth:`forward_logits`."""
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_logits(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
