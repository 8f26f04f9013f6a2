# Copyright (c) mmdistill contributors.
"""Θ-Average token reduction (KARMMA, Sec. 3.5)."""
from typing import Optional

import torch
from mmengine.model import BaseModule
from torch import Tensor

from mmaction.registry import MODELS


@MODELS.register_module()
class ThetaAverage(BaseModule):
    """Parameter-free Θ-Average token reduction (KARMMA §3.5).

    For an input of ``k`` tokens and threshold ``Θ``:

    * ``k <= Θ``: the tokens are returned unchanged (same tensor object).
    * ``k > Θ``: the tokens are split into ``Θ`` groups of
      ``g = ⌊k/Θ⌋`` *consecutive* tokens; the last group additionally takes the
      ``k mod Θ`` remaining tokens (so it holds ``g + k mod Θ`` tokens). Each
      group is averaged, giving exactly ``Θ`` tokens.

    Example: ``k=7, Θ=3`` -> groups ``[0,1] [2,3] [4,5,6]``.

    The reduction is vectorized: the first ``(Θ-1)·g`` tokens are reshaped to
    ``[B, Θ-1, g, C]`` and averaged, the tail is averaged separately.

    Args:
        theta (int | None): the threshold Θ (paper: 300). ``None`` disables
            the reduction (identity), which is convenient for the
            "None" ablation of Tab. 4.

    Raises:
        ValueError: ``theta`` is not a positive int (at construction), or the
            input is not 3-D ``[B, k, C]`` (at call time).
    """

    def __init__(self, theta: Optional[int] = 300, init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if theta is not None and (isinstance(theta, bool)
                                  or not isinstance(theta, int) or theta < 1):
            raise ValueError(f'theta must be a positive int or None, '
                             f'got {theta!r}')
        self.theta = theta

    def num_output_tokens(self, k: int) -> int:
        """Number of tokens produced for ``k`` input tokens: ``min(k, Θ)``."""
        return k if self.theta is None else min(k, self.theta)

    def forward(self, x: Tensor) -> Tensor:
        """Reduce tokens.

        Args:
            x: ``[B, k, C]`` tokens of one modality.

        Returns:
            ``[B, min(k, Θ), C]``.

        Raises:
            ValueError: if ``x`` is not 3-D.
        """
        if x.dim() != 3:
            raise ValueError('ThetaAverage expects tokens of shape [B, k, C], '
                             f'got shape {tuple(x.shape)}')
        k = x.shape[1]
        theta = self.theta
        if theta is None or k <= theta:
            return x
        b, _, c = x.shape
        g = k // theta
        n_head = (theta - 1) * g
        head = x[:, :n_head].reshape(b, theta - 1, g, c).mean(dim=2)
        tail = x[:, n_head:].mean(dim=1, keepdim=True)
        return torch.cat([head, tail], dim=1)

    def extra_repr(self) -> str:
        return f'theta={self.theta}'
