"""Mutual Learning / Mutual Modality Learning loss for M networks trained together."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


@MODELS.register_module()
class MutualLearningLoss(BaseModule):
    r"""``L_i = CE(p_i, y) + KL(q_i ‖ p_i)`` for every network i, ``q_i`` detached
    (mutual-modality-learning.txt §2.2–2.3, Eq. 1–2; Zhang et al.'s Deep Mutual Learning).

    Two published forms of the target, chosen by ``target``:

    - ``'peers'`` (the paper, M networks): ``KL term = (1/(M−1))·Σ_{j≠i} KL(p_j ‖ p_i)``;
    - ``'mean_logits'`` (the reference code): ``q_i = softmax(mean_{j≠i} z_j)``, one KL.

    For M = 2 the two coincide. With ``tau`` ≠ 1 both sides use ``softmax(z/τ)`` and the KL is
    scaled by τ² (the papers use τ = 1).

    Single-label (``labels`` ``[B]`` int): CE, KL summed over classes and averaged over the batch
    (``reduction='batchmean'``). Multi-label (``labels`` ``[B, C]`` multi-hot, Charades):
    BCE-with-logits averaged over batch × classes and the KL divided by B·C (the paper's
    appendix 2: the same magnitude ratio as CE / KL in the single-label case).

    Args:
        target (str): ``'peers'`` or ``'mean_logits'``.
        tau (float): Temperature τ > 0 (default 1).
        loss_weight (float): Weight of the KL term (the CE term has weight 1).

    Shapes: ``logits`` ``[M, B, C]`` (M ≥ 2) → ``dict(loss_cls=[M], loss_kd=[M], winner=None)``.

    Raises:
        ValueError: unknown ``target``, τ ≤ 0, M < 2, or labels whose shape fits neither form.
    """

    TARGETS = ('peers', 'mean_logits')

    def __init__(self, target: str = 'peers', tau: float = 1.0,
                 loss_weight: float = 1.0) -> None:
        super().__init__()
        if target not in self.TARGETS:
            raise ValueError(f'target must be one of {self.TARGETS}, got {target!r}')
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.target = target
        self.tau = float(tau)
        self.loss_weight = float(loss_weight)

    def forward(self, logits: torch.Tensor, labels: torch.Tensor) -> dict:
        if logits.dim() != 3 or logits.shape[0] < 2:
            raise ValueError(f'logits must be [M, B, C] with M >= 2 networks, got '
                             f'{tuple(logits.shape)}')
        m, b, c = logits.shape
        if labels.dim() == 1 and labels.shape[0] == b:
            multi_label = False
            cls = F.cross_entropy(logits.reshape(m * b, c), labels.repeat(m),
                                  reduction='none').view(m, b).mean(1)
        elif labels.shape == (b, c):
            multi_label = True
            cls = F.binary_cross_entropy_with_logits(
                logits, labels.to(logits.dtype).expand(m, b, c), reduction='none').mean((1, 2))
        else:
            raise ValueError(f'labels must be [B] class indices or [B, C] multi-hot targets '
                             f'with B={b}, C={c}; got {tuple(labels.shape)}')
        log_p = F.log_softmax(logits / self.tau, dim=-1)  # [M, B, C]
        if self.target == 'peers':
            p = log_p.detach().exp()
            # kl[i, j, b] = Σ_c p_j (log p_j − log p_i)
            neg_ent = (p * log_p.detach()).sum(-1)  # [M(j), B]
            kl = neg_ent.unsqueeze(0) - torch.einsum('jbc,ibc->ijb', p, log_p)
            off_diag = ~torch.eye(m, dtype=torch.bool, device=logits.device)
            kl = (kl * off_diag.unsqueeze(-1)).sum(1) / (m - 1)  # [M, B]
        else:
            z = logits.detach()
            peers = (z.sum(0, keepdim=True) - z) / (m - 1)  # mean of the others' logits
            log_q = F.log_softmax(peers / self.tau, dim=-1)
            kl = (log_q.exp() * (log_q - log_p)).sum(-1)  # [M, B]
        kd = kl.mean(1) * self.tau**2
        if multi_label:
            kd = kd / c
        return dict(loss_cls=cls, loss_kd=self.loss_weight * kd, winner=None)
