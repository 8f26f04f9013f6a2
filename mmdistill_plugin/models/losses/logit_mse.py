"""Mean squared error between student and teacher logits (D3D Eq. 2)."""
from typing import Dict, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS

from .kl_divergence import paired_logits

Logits = Union[torch.Tensor, Dict[str, torch.Tensor]]


@MODELS.register_module()
class LogitMSE(BaseModule):
    """``loss_weight · mean((s − t)²)`` over batch and classes, teacher detached.

    D3D (Stroud et al.) Eq. 2 distils a frozen flow teacher into an RGB student with an MSE
    between pre-softmax outputs, λ = 1. Several heads are averaged.

    Shapes: ``[B, C]`` tensors or dicts of them with the same keys.

    Raises:
        ValueError: if the heads or shapes of the two inputs differ.
    """

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def forward(self, student_logits: Logits, teacher_logits: Logits) -> torch.Tensor:
        losses = [F.mse_loss(s, t) for _, s, t in paired_logits(student_logits, teacher_logits)]
        return self.loss_weight * torch.stack(losses).mean()
