"""Temperature-scaled KL divergence between teacher and student class distributions."""
from typing import Dict, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS

Logits = Union[torch.Tensor, Dict[str, torch.Tensor]]


def _as_dict(logits: Logits) -> Dict[str, torch.Tensor]:
    return logits if isinstance(logits, dict) else {'item': logits}


def paired_logits(student_logits: Logits, teacher_logits: Logits):
    """``(head, student, detached teacher)`` per head, checking heads and shapes match.

    Raises:
        ValueError: if the two inputs have different heads or shapes.
    """
    s_all, t_all = _as_dict(student_logits), _as_dict(teacher_logits)
    if set(s_all) != set(t_all):
        raise ValueError(f'student heads {sorted(s_all)} != teacher heads {sorted(t_all)}')
    for name, s in s_all.items():
        t = t_all[name].detach()
        if s.shape != t.shape:
            raise ValueError(f'head {name!r}: student logits {tuple(s.shape)} and teacher '
                             f'logits {tuple(t.shape)} differ')
        yield name, s, t


@MODELS.register_module()
class KLDivergence(BaseModule):
    r"""``loss_weight · τ² · KL(softmax(t/τ) ‖ softmax(s/τ))``, averaged over the batch.

    Implements KARMMA Eq. 4 (τ = 1) and Hinton's distillation loss as used by Radevski et al.
    (τ = 10): ``KLDiv(reduction='batchmean')`` between log-softmax outputs at temperature τ,
    scaled by τ² so gradient magnitudes do not depend on τ. For several output heads
    (EPIC-100 verb / noun) the per-head losses are averaged.

    Args:
        tau (float): Temperature τ > 0.
        loss_weight (float): Weight of the loss (KARMMA's λ).

    Shapes:
        ``student_logits`` and ``teacher_logits``: ``[B, C]`` tensors, or dicts of them with the
        same keys. The teacher is detached (it is a fixed target).

    Raises:
        ValueError: if τ ≤ 0, or the two inputs have different heads or shapes.
    """

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.loss_weight = float(loss_weight)

    def forward(self, student_logits: Logits, teacher_logits: Logits) -> torch.Tensor:
        losses = []
        for _, s, t in paired_logits(student_logits, teacher_logits):
            log_p_s = F.log_softmax(s / self.tau, dim=-1)
            log_p_t = F.log_softmax(t / self.tau, dim=-1)
            kl = F.kl_div(log_p_s, log_p_t, reduction='batchmean', log_target=True)
            losses.append(kl * self.tau**2)
        return self.loss_weight * torch.stack(losses).mean()
