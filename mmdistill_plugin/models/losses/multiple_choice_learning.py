"""Multiple-choice-learning losses for M modality networks trained together (DMCL and its
ablations: independent, SMCL, CMCL, random teacher).

Every loss takes the logits of the M networks stacked as ``[M, B, C]`` and integer labels
``[B]`` and returns per-network terms (vectorised over networks and samples, no Python loop)::

    dict(loss_cls=Tensor[M], loss_kd=Tensor[M], winner=LongTensor[B])

``loss_cls[m]`` / ``loss_kd[m]`` are the batch means of network m's per-sample ground-truth and
teacher terms (their sum is network m's loss); ``winner[b]`` is the network chosen for sample b
(the one with the lowest criterion loss; for ``IndependentMCLLoss`` only reported, not used).
"""
import math

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def _check(logits: torch.Tensor, labels: torch.Tensor) -> None:
    if logits.dim() != 3:
        raise ValueError(f'logits must be [M, B, C] (networks, batch, classes), got '
                         f'{tuple(logits.shape)}')
    if labels.dim() != 1 or labels.shape[0] != logits.shape[1]:
        raise ValueError(f'labels must be integer class indices [B] with B = {logits.shape[1]}, '
                         f'got {tuple(labels.shape)} (multi-label targets are supported by '
                         f'MutualLearningLoss only)')


def per_sample_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of every network on every sample: ``[M, B, C]``, ``[B]`` → ``[M, B]``."""
    _check(logits, labels)
    m, b, c = logits.shape
    return F.cross_entropy(logits.reshape(m * b, c), labels.repeat(m),
                           reduction='none').view(m, b)


def winner_mask(winner: torch.Tensor, num_networks: int) -> torch.Tensor:
    """``[B]`` winner indices → bool ``[M, B]``, True where network m won sample b."""
    return F.one_hot(winner, num_networks).t().bool()


class _MCLBase(BaseModule):
    """Shared arguments. ``loss_weight`` scales both terms of every network."""

    def __init__(self, loss_weight: float = 1.0) -> None:
        super().__init__()
        self.loss_weight = float(loss_weight)

    def _out(self, cls, kd, winner):
        return dict(loss_cls=self.loss_weight * cls.mean(1),
                    loss_kd=self.loss_weight * kd.mean(1), winner=winner)


@MODELS.register_module()
class IndependentMCLLoss(_MCLBase):
    """Independent training (DMCL Tab. 1 "Independent"): plain CE per network.

    ``loss_kd`` is 0; ``winner`` (argmin of CE) is only reported, so the log shows which
    modality would have won.
    """

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> dict:
        ce = per_sample_ce(logits, labels)
        return self._out(ce, torch.zeros_like(ce), ce.detach().argmin(0))


@MODELS.register_module()
class DMCLLoss(_MCLBase):
    r"""Distillation Multiple Choice Learning (dmcl.txt §3, Alg. 1, Eq. 2–3).

    Per sample b the winner ``m* = argmin_m CE(y_b, f^m_b)``. The winner is updated with
    ``CE(y_b, f^{m*}_b)``; every loser m with the generalised-distillation loss (Eq. 3)

        (1 − λ)·CE(y_b, σ(f^m_b)) + λ·T²·CE(stop_grad(σ(f^{m*}_b / T)), σ(f^m_b / T)),

    the soft targets of the winner (Eq. 2) detached, so no gradient reaches the winner through
    them. The soft cross-entropy equals KL(s^{m*} ‖ s^m) plus the entropy of the (constant)
    target: same gradient as the KL form of DESIGN.md, and the logged ``loss_kd`` includes
    that entropy. T² keeps the gradient scale independent of T (the released code's scaling;
    Eq. 3 as printed has no T²: ``t2_scale=False``, an ablation).

    Args:
        T (float): Temperature of the soft targets (paper: 2 or 5).
        lam (float): λ ∈ [0, 1] (paper: 0.5 or 1).
        t2_scale (bool): Multiply the distillation term by T² (default, the released code).
        loss_weight (float): Scales every term.

    Shapes: ``logits`` ``[M, B, C]``, ``labels`` ``[B]`` (int) →
    ``loss_cls``/``loss_kd`` ``[M]``, ``winner`` ``[B]``.

    Raises:
        ValueError: T ≤ 0, λ outside [0, 1], or badly shaped inputs.
    """

    def __init__(self, T: float = 2.0, lam: float = 0.5, t2_scale: bool = True,
                 loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if T <= 0:
            raise ValueError(f'T must be > 0, got {T}')
        if not 0.0 <= lam <= 1.0:
            raise ValueError(f'lam must be in [0, 1], got {lam}')
        self.T = float(T)
        self.lam = float(lam)
        self.t2_scale = bool(t2_scale)

    def choose_winner(self, ce: torch.Tensor) -> torch.Tensor:
        """``[M, B]`` per-sample CE → ``[B]`` index of the winner (argmin, Alg. 1 line 10)."""
        return ce.detach().argmin(0)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> dict:
        ce = per_sample_ce(logits, labels)
        m, b, _ = logits.shape
        winner = self.choose_winner(ce)
        win = winner_mask(winner, m)
        soft = F.softmax(logits[winner, torch.arange(b, device=logits.device)].detach() / self.T,
                         dim=-1)  # [B, C]
        soft_ce = -(soft.unsqueeze(0) * F.log_softmax(logits / self.T, dim=-1)).sum(-1)
        cls = torch.where(win, ce, (1.0 - self.lam) * ce)
        kd_weight = self.lam * (self.T**2 if self.t2_scale else 1.0)
        kd = torch.where(win, torch.zeros_like(soft_ce), kd_weight * soft_ce)
        return self._out(cls, kd, winner)


@MODELS.register_module()
class RandomTeacherMCLLoss(DMCLLoss):
    """DMCL with the winner drawn uniformly per sample (dmcl.txt Tab. 2 "Random Teacher").

    Same updates as :class:`DMCLLoss`; the teacher of sample b is ``U{0..M−1}`` (torch's global
    generator, so ``randomness.seed`` makes it reproducible).
    """

    def choose_winner(self, ce: torch.Tensor) -> torch.Tensor:
        return torch.randint(0, ce.shape[0], (ce.shape[1], ), device=ce.device)


@MODELS.register_module()
class SMCLLoss(_MCLBase):
    """Stochastic MCL (Lee et al. 2016; dmcl.txt Tab. 1): the winner (argmin CE) gets CE,
    the losers get no loss (not updated on that sample). ``loss_kd`` is 0."""

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> dict:
        ce = per_sample_ce(logits, labels)
        winner = ce.detach().argmin(0)
        win = winner_mask(winner, logits.shape[0])
        return self._out(torch.where(win, ce, torch.zeros_like(ce)), torch.zeros_like(ce), winner)


@MODELS.register_module()
class CMCLLoss(_MCLBase):
    r"""Confident MCL (Lee et al. 2017; dmcl.txt Tab. 1): losers pushed to the uniform
    distribution.

    Per sample, ``KL_m = KL(U ‖ σ(f^m)) = −log C − (1/C)·Σ_c log σ(f^m)_c``; the winner is
    ``argmin_m CE_m + β·Σ_{m'≠m} KL_{m'}`` (the task loss plus how well the others predict the
    uniform distribution); the winner gets CE (``loss_cls``), each loser ``β·KL_m``
    (``loss_kd``).

    Args:
        beta (float): β (Lee et al.: 0.75).
        loss_weight (float): Scales every term.
    """

    def __init__(self, beta: float = 0.75, loss_weight: float = 1.0) -> None:
        super().__init__(loss_weight)
        if beta < 0:
            raise ValueError(f'beta must be >= 0, got {beta}')
        self.beta = float(beta)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> dict:
        ce = per_sample_ce(logits, labels)
        c = logits.shape[-1]
        kl_u = -math.log(c) - F.log_softmax(logits, dim=-1).mean(-1)  # [M, B]
        crit = ce.detach() + self.beta * (kl_u.detach().sum(0, keepdim=True) - kl_u.detach())
        winner = crit.argmin(0)
        win = winner_mask(winner, logits.shape[0])
        zero = torch.zeros_like(ce)
        return self._out(torch.where(win, ce, zero), torch.where(win, zero, self.beta * kl_u),
                         winner)
