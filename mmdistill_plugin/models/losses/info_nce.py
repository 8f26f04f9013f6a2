"""InfoNCE alignment of every modality to the video modality (KARMMA Eq. 2)."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


@MODELS.register_module()
class InfoNCELoss(BaseModule):
    r"""KARMMA Eq. 2: ``1/(M−1) Σ_{m≠video} CE(sim(z_video, z_m) / τ, ỹ)``.

    ``sim`` is the cosine similarity between every pair of samples of the batch
    (``[b, b]`` logits, row i = video of sample i against modality m of every sample) and the
    targets are ``ỹ = (0, 1, …, b−1)``: each sample's video must pick its own other modality.

    Args:
        tau (float): Temperature τ (paper: 0.1).
        loss_weight (float): Weight of the loss (KARMMA's β).

    Shapes:
        ``anchor``: ``[B, D]`` (the fusion block's video token z_video); ``others``:
        ``[B, M−1, D]`` (the tokens of the other modalities).

    Raises:
        ValueError: if τ ≤ 0 or the shapes do not match.
    """

    def __init__(self, tau: float = 0.1, loss_weight: float = 1.0) -> None:
        super().__init__()
        if tau <= 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = float(tau)
        self.loss_weight = float(loss_weight)

    def forward(self, anchor: torch.Tensor, others: torch.Tensor) -> torch.Tensor:
        if anchor.dim() != 2 or others.dim() != 3 or others.shape[0] != anchor.shape[0] \
                or others.shape[2] != anchor.shape[1]:
            raise ValueError(f'expected anchor [B, D] and others [B, M-1, D], got '
                             f'{tuple(anchor.shape)} and {tuple(others.shape)}')
        b, num_others = anchor.shape[0], others.shape[1]
        a = F.normalize(anchor, dim=-1)
        o = F.normalize(others, dim=-1)
        # [M-1, B, B]: sim[m, i, j] = cos(z_video_i, z_m_j)
        sim = torch.einsum('id,jmd->mij', a, o) / self.tau
        target = torch.arange(b, device=anchor.device).repeat(num_others)
        loss = F.cross_entropy(sim.reshape(num_others * b, b), target)
        return self.loss_weight * loss
