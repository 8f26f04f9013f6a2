"""Running any recognizer the same way: class logits, own losses, the inputs it takes.

Shared by the distillers (``DistillRecognizer``) and the recognizers that hold other
recognizers (``LogitEnsemble``).
"""
import copy
from typing import Dict, Optional

import torch
import torch.nn as nn


def recognizer_logits(model: nn.Module, inputs, data_samples, test_mode=False
                      ) -> Dict[str, torch.Tensor]:
    """Class logits ``dict(head -> [B, C])`` of any recognizer.

    ``MultimodalRecognizer``/``LogitEnsemble`` expose ``forward_logits``; a plain MMAction2
    recognizer (``Recognizer2D/3D/Audio``) is run through ``extract_feat`` and its ``cls_head``,
    and its clip/segment scores are averaged per sample. A single head is named ``item``.
    """
    if hasattr(model, 'forward_logits'):
        return model.forward_logits(inputs, data_samples, test_mode=test_mode)
    feats, kwargs = model.extract_feat(inputs, data_samples=data_samples, test_mode=test_mode)
    scores = model.cls_head(feats, **kwargs)
    batch = len(data_samples)
    if scores.shape[0] != batch:
        scores = scores.view(batch, -1, scores.shape[-1]).mean(1)
    return {'item': scores}


def student_loss_and_logits(model: nn.Module, inputs, data_samples):
    """The student's own losses (e.g. γ·CE) and the logits they came from."""
    if hasattr(model, 'loss_and_logits'):
        return model.loss_and_logits(inputs, data_samples)
    feats, kwargs = model.extract_feat(inputs, data_samples=data_samples)
    loss_aux = kwargs.pop('loss_aux', {})
    scores = model.cls_head(feats, **kwargs)
    losses = model.cls_head.loss_by_feat(scores, data_samples)
    losses.update(loss_aux)
    batch = len(data_samples)
    logits = scores if scores.shape[0] == batch else \
        scores.view(batch, -1, scores.shape[-1]).mean(1)
    return losses, {'item': logits}


def select_inputs(inputs, modality: Optional[str]):
    """The inputs a model takes: all of a multimodal dict (``None``) or one modality's."""
    if modality is None:
        return dict(inputs) if isinstance(inputs, dict) else inputs
    if not isinstance(inputs, dict) or modality not in inputs:
        have = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise KeyError(f'modality {modality!r} is not in the batch inputs ({have}); add it to '
                       f'the dataset modalities and the pipeline')
    return inputs[modality]


def preprocess_for(model: nn.Module, inputs, data_samples, modality: Optional[str],
                   training: bool):
    """``(inputs, data_samples)`` for ``model``: :func:`select_inputs` through the model's OWN
    data preprocessor (its mean/std/format), as every held recognizer (a distiller's student and
    teacher, an ensemble's or a multi-network model's members) needs.

    A stacked tensor is split into the list MMAction2's preprocessors collate; the list of data
    samples is copied (shallow), so one model's preprocessor cannot rebind another's list.

    Raises:
        KeyError: ``inputs`` lacks ``modality`` (from :func:`select_inputs`).
    """
    x = select_inputs(inputs, modality)
    if isinstance(x, torch.Tensor):
        x = list(x)  # MMAction2's preprocessors stack a list
    data = model.data_preprocessor(dict(inputs=x, data_samples=copy.copy(data_samples)),
                                   training)
    return data['inputs'], data['data_samples']
