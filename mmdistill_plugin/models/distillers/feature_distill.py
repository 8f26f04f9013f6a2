"""Distillation at an intermediate layer: student features → (1×1 projection) → teacher's."""
from typing import Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModule

from mmaction.registry import MODELS
from ..utils import find_module


class FeatureRecorder:
    """Keeps the output of one module (a forward hook) while ``active``."""

    def __init__(self, module: nn.Module, name: str):
        self.name = name
        self.active = False
        self.output = None
        module.register_forward_hook(self._hook)

    def _hook(self, module, args, output):
        if self.active:
            self.output = output[-1] if isinstance(output, (list, tuple)) else output

    def pop(self) -> torch.Tensor:
        if self.output is None:
            raise RuntimeError(f'layer {self.name!r} produced no output in this forward pass')
        out, self.output = self.output, None
        return out


class ChannelProjection(nn.Module):
    """A learned 1×1 projection of the channel dimension, for features of any rank.

    ``[B, C_in, *rest] → [B, C_out, *rest]`` with ``channel_dim=1`` (conv feature maps), or the
    last dimension with ``channel_dim=-1`` (token sequences ``[B, k, C]``).
    """

    def __init__(self, in_channels: int, out_channels: int, channel_dim: int = 1):
        super().__init__()
        self.proj = nn.Linear(in_channels, out_channels)
        self.channel_dim = channel_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.movedim(self.channel_dim, -1)
        return self.proj(x).movedim(-1, self.channel_dim)


class FeatureDistillation(BaseModule):
    """One intermediate-layer distillation term (D3D §3 "distillation at an intermediate layer").

    The output of ``student_layer`` (optionally projected by a learned 1×1 projection to the
    teacher's channel count) is pulled towards the output of ``teacher_layer`` by ``loss``
    (default ``LogitMSE``: mean squared error of two same-shape tensors, teacher detached).
    Only the student (and the projection) receive gradients.

    Args:
        student_layer / teacher_layer (str): Module names (``model.named_modules()``), e.g.
            ``'backbone.layers.1'``; a LogitEnsemble member is ``'members.flow.backbone...'``.
        loss (dict): Loss config called as ``loss(student_feature, teacher_feature)``.
        projection (dict, optional): ``dict(in_channels=C_s, out_channels=C_t)``.
        channel_dim (int): Channel dimension of both features (1 for ``[B, C, T, H, W]``).

    Raises:
        KeyError: an unknown layer name (with close candidates).
        ValueError: features of different shapes after the projection (names both layers).
    """

    def __init__(self, student_layer: str, teacher_layer: str,
                 loss: dict = dict(type='LogitMSE', loss_weight=1.0),
                 projection: Optional[dict] = None, channel_dim: int = 1) -> None:
        super().__init__()
        self.student_layer = student_layer
        self.teacher_layer = teacher_layer
        self.loss = MODELS.build(loss)
        self.projection = ChannelProjection(channel_dim=channel_dim, **projection) \
            if projection is not None else None
        self._student = self._teacher = None

    def attach(self, student: nn.Module, teacher: nn.Module) -> None:
        """Hook the two layers (called once by the distiller)."""
        self._student = FeatureRecorder(find_module(student, self.student_layer),
                                        self.student_layer)
        self._teacher = FeatureRecorder(find_module(teacher, self.teacher_layer),
                                        self.teacher_layer)

    def recording(self, on: bool) -> None:
        self._student.active = self._teacher.active = on

    def forward(self) -> torch.Tensor:
        s, t = self._student.pop(), self._teacher.pop().detach()
        if self.projection is not None:
            s = self.projection(s)
        if s.shape != t.shape:
            raise ValueError(f'student layer {self.student_layer!r} gives {tuple(s.shape)} '
                             f'(after projection) but teacher layer {self.teacher_layer!r} '
                             f'gives {tuple(t.shape)}; set `projection` or pick matching layers')
        return self.loss(s, t)
