"""D3D's optical-flow decoder probe (Stroud et al., D3D §3.1): does a 3D CNN encode motion?"""
from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction.registry import MODELS


def dequantise_flow(q: torch.Tensor, bound: float = 20.0) -> torch.Tensor:
    """Flow in pixels from the uint8 quantisation of docs/data_model.md.

    ``q = (f + b) * 255 / (2b)``  ⇒  ``f = q * 2b / 255 - b`` (127.5 ↦ 0), any shape.
    """
    return q.float() * (2.0 * bound / 255.0) - bound


def encode_flow(uv: torch.Tensor, eps: float = 0.0) -> torch.Tensor:
    """Im2Flow encoding ``(mag, sin θ, cos θ)`` of a flow field.

    Args:
        uv: ``[B, 2, ...]`` flow (x, y) in pixels.

    Returns:
        ``[B, 3, ...]``: ``mag = ‖(u, v)‖``, ``θ = atan2(v, u)`` (zero flow: θ = 0, i.e.
        sin 0, cos 1; its angle terms get weight mag = 0 in the loss).
    """
    u, v = uv[:, 0], uv[:, 1]
    mag = torch.sqrt(u * u + v * v + eps)
    theta = torch.atan2(v, u)
    return torch.stack([mag, torch.sin(theta), torch.cos(theta)], dim=1)


def flow_from_prediction(pred: torch.Tensor) -> torch.Tensor:
    """Flow ``(u, v)`` from a ``(mag, sin θ, cos θ)`` prediction.

    ``mag`` is clamped at 0 and ``θ = atan2(sin, cos)`` (so the predicted (sin, cos) need not
    be unit length): ``u = mag·cos θ``, ``v = mag·sin θ``.

    Args:
        pred: ``[B, 3, ...]``. Returns ``[B, 2, ...]``.
    """
    mag = pred[:, 0].clamp(min=0)
    theta = torch.atan2(pred[:, 1], pred[:, 2])
    return torch.stack([mag * torch.cos(theta), mag * torch.sin(theta)], dim=1)


def epe(pred_uv: torch.Tensor, gt_uv: torch.Tensor, per_sample: bool = False) -> torch.Tensor:
    """End-point error: mean over pixels of ``‖(u, v)_pred − (u, v)_gt‖₂`` (pixels).

    Args:
        pred_uv, gt_uv: ``[B, 2, ...]`` flows (same shape).
        per_sample: return ``[B]`` (mean over each sample's pixels) instead of a scalar.

    Raises:
        ValueError: shapes differ or the channel dim is not 2.
    """
    if pred_uv.shape != gt_uv.shape or pred_uv.shape[1] != 2:
        raise ValueError(f'epe needs two [B, 2, ...] flows of one shape; got '
                         f'{tuple(pred_uv.shape)} and {tuple(gt_uv.shape)}')
    dist = torch.linalg.vector_norm(pred_uv - gt_uv, dim=1)
    return dist.flatten(1).mean(1) if per_sample else dist.mean()


def flow_probe_loss(pred: torch.Tensor, gt_uv: torch.Tensor) -> Dict[str, torch.Tensor]:
    """D3D / Im2Flow flow loss, squared error with the angle terms weighted by magnitude.

    With target ``(m, s, c) = encode_flow(gt_uv)`` and prediction ``(m̂, ŝ, ĉ)``::

        L = mean_px (m̂ − m)²  +  mean_px m·(ŝ − s)²  +  mean_px m·(ĉ − c)²

    (the weight is the *target* magnitude: where there is no motion the angle is undefined and
    contributes nothing). Returned as ``loss_mag``, ``loss_sin``, ``loss_cos``.

    Args:
        pred: ``[B, 3, ...]`` decoder output. gt_uv: ``[B, 2, ...]`` target flow in pixels.

    Raises:
        ValueError: when the spatial/temporal shapes differ.
    """
    target = encode_flow(gt_uv)
    if pred.shape != target.shape:
        raise ValueError(f'prediction {tuple(pred.shape)} does not match the target flow '
                         f'{tuple(gt_uv.shape)} (expected [B, 3, ...] vs [B, 2, ...])')
    mag = target[:, 0]
    return dict(loss_mag=((pred[:, 0] - mag) ** 2).mean(),
                loss_sin=(mag * (pred[:, 1] - target[:, 1]) ** 2).mean(),
                loss_cos=(mag * (pred[:, 2] - target[:, 2]) ** 2).mean())


@MODELS.register_module()
class FlowDecoderProbe(BaseModule):
    """Per-frame optical-flow decoder on a 3D CNN's intermediate features (D3D §3.1).

    The decoder has no temporal convolutions and sees one frame at a time, so it cannot learn
    motion the features do not already hold. Like PWC-Net's flow estimator (without cost
    volume and warping) it is a stack of 3×3 2D convs with LeakyReLU(0.1) (``channels``,
    PWC-Net: 128, 128, 96, 64, 32; we use a plain stack, not its dense connections) and a 3×3
    conv to 3 channels ``(mag, sin θ, cos θ)`` (Im2Flow encoding), bilinearly upsampled to the
    flow's resolution (the paper compares at the decoder's 28×28 output; we upsample the
    prediction instead of resizing the target, so EPE is in the flow's own pixels).

    Args:
        in_channels (int): Channels C of the feature map.
        channels (Sequence[int]): Hidden conv widths.
        loss_weight (float): Multiplies the three loss terms.
        align_corners (bool): For the bilinear upsampling.

    Shapes: ``forward([B, C, T, h, w], out_size=(H, W)) -> [B, 3, T, H, W]``.
    """

    def __init__(self,
                 in_channels: int,
                 channels: Sequence[int] = (128, 128, 96, 64, 32),
                 loss_weight: float = 1.0,
                 align_corners: bool = False,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        layers, c = [], in_channels
        for out in channels:
            layers += [nn.Conv2d(c, out, 3, padding=1), nn.LeakyReLU(0.1)]
            c = out
        layers.append(nn.Conv2d(c, 3, 3, padding=1))
        self.decoder = nn.Sequential(*layers)
        self.in_channels = in_channels
        self.loss_weight = loss_weight
        self.align_corners = align_corners

    def forward(self, feat: torch.Tensor,
                out_size: Optional[Tuple[int, int]] = None) -> torch.Tensor:
        """``[B, C, T, h, w]`` features → ``[B, 3, T, H, W]`` (mag, sin θ, cos θ).

        Raises:
            ValueError: a feature map that is not 5-D or has the wrong channel count.
        """
        if feat.dim() != 5 or feat.shape[1] != self.in_channels:
            raise ValueError(f'FlowDecoderProbe expects [B, {self.in_channels}, T, h, w] '
                             f'features, got {tuple(feat.shape)}')
        b, c, t, h, w = feat.shape
        x = feat.transpose(1, 2).reshape(b * t, c, h, w)  # frames are independent
        x = self.decoder(x)
        if out_size is not None and tuple(out_size) != (h, w):
            x = F.interpolate(x, size=tuple(out_size), mode='bilinear',
                              align_corners=self.align_corners)
        return x.view(b, t, 3, *x.shape[-2:]).transpose(1, 2)

    def loss(self, pred: torch.Tensor, gt_uv: torch.Tensor) -> Dict[str, torch.Tensor]:
        """``loss_weight`` × :func:`flow_probe_loss` (``loss_mag``, ``loss_sin``,
        ``loss_cos``)."""
        return {k: self.loss_weight * v for k, v in flow_probe_loss(pred, gt_uv).items()}
