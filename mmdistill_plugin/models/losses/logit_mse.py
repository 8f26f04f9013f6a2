"""Squared error between student and teacher logits (D3D Eq. 2)."""
from typing import Dict, Union

import torch
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from .kl_divergence import paired_logits

Logits = Union[torch.Tensor, Dict[str, torch.Tensor]]
REDUCTIONS = ('batchmean', 'mean')


@MODELS.register_module()
class LogitMSE(BaseModule):
    """Squared error between pre-softmax outputs, teacher detached.

    D3D (Stroud et al.) Eq. 2 distils a frozen flow teacher into an RGB student:
    ``L_d = (1/N) Σ_i (f_s(x_i) − f_t(x_i))²`` over the N clips, λ = 1. Read literally, the
    square of the C-dimensional difference is its squared norm ``Σ_c (s_ic − t_ic)²``, averaged
    over clips only: ``reduction='batchmean'`` (the D3D configs' choice; with λ = 1 the
    distillation term then weighs what the paper's λ = 1 weighs). ``reduction='mean'``
    (PyTorch's ``mse_loss``) also averages over classes, i.e. 1/C of it: at C = 174 (SSv2) λ
    would have to be 174 to match the paper.

    Args:
        loss_weight (float): λ. Defaults to 1.0.
        reduction (str): ``'batchmean'`` (sum over classes, mean over the batch) or ``'mean'``
            (mean over batch and classes). Defaults to ``'mean'``.

    Shapes: ``[B, C]`` tensors or dicts of them with the same keys; several heads are averaged.

    Raises:
        ValueError: an unknown ``reduction``; heads or shapes of the two inputs differ.
    """

    def __init__(self, loss_weight: float = 1.0, reduction: str = 'mean') -> None:
        super().__init__()
        if reduction not in REDUCTIONS:
            raise ValueError(f'LogitMSE reduction must be one of {REDUCTIONS}, got {reduction!r}')
        self.loss_weight = float(loss_weight)
        self.reduction = reduction

    def forward(self, student_logits: Logits, teacher_logits: Logits) -> torch.Tensor:
        losses = []
        for _, s, t in paired_logits(student_logits, teacher_logits):
            sq = (s - t).pow(2)
            losses.append(sq.sum(-1).mean() if self.reduction == 'batchmean' else sq.mean())
        return self.loss_weight * torch.stack(losses).mean()
