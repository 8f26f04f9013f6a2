# Copyright (c) mmdistill contributors.
"""AST: Audio Spectrogram Transformer (Gong et al., Interspeech 2021)."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmaction.registry import MODELS
from ..fusion.transformer_layer import PreNormTransformerLayer


def _pair(v) -> Tuple[int, int]:
    if isinstance(v, int):
        return (v, v)
    v = tuple(int(i) for i in v)
    if len(v) != 2:
        raise ValueError(f'expected an int or a pair, got {v}')
    return v


@MODELS.register_module()
class AudioSpectrogramTransformer(BaseModule):
    """DeiT-style ViT on a log-mel spectrogram (AST).

    ``Conv2d(1, C, patch_size, stride)`` patch embedding with overlapping
    patches (AST: 16×16 patches, stride 10), a CLS and a distillation token
    (DeiT), learned position embedding sized from ``input_size``,
    ``num_layers`` pre-norm transformer layers with linearly increasing
    stochastic depth, final LayerNorm. Defaults = AST-T (DeiT-tiny: C=192,
    12 layers, 3 heads), as used by KARMMA's student (trained from scratch).

    The number of patch tokens is
    ``k = ((F - p_F) // s_F + 1) * ((M - p_M) // s_M + 1)``
    (e.g. ``input_size=(1024, 128)`` -> 101·12 = 1212).

    Decisions: the patch grid is taken directly on the ``[F (time), M
    (mel)]`` layout written by the loader (the original AST transposes to
    mel×time; irrelevant without pretrained weights). By default only the
    patch tokens are returned (``out_tokens='patch'``) — these are the
    tokens KARMMA's Θ-Average and fusion block consume; ``'all'`` keeps the
    CLS and distillation tokens in front.

    Args:
        embed_dims (int): ``C``.
        num_layers (int): depth.
        num_heads (int): heads.
        patch_size (int | tuple): patch size ``(p_F, p_M)``.
        stride (int | tuple): patch stride ``(s_F, s_M)``.
        input_size (tuple): ``(F, M)`` spectrogram size; must be at least
            the patch size.
        mlp_ratio (float): FFN hidden size / ``C``.
        drop_rate (float): dropout on embeddings / residual branches.
        attn_drop_rate (float): attention dropout.
        drop_path_rate (float): maximum stochastic depth.
        out_tokens (str): ``'patch'`` or ``'all'``.
        init_cfg (dict | list | None): mmengine init config.

    Raises:
        ValueError: ``input_size`` smaller than ``patch_size`` or unknown
            ``out_tokens``.
    """

    def __init__(self,
                 embed_dims: int = 192,
                 num_layers: int = 12,
                 num_heads: int = 3,
                 patch_size: Union[int, Sequence[int]] = 16,
                 stride: Union[int, Sequence[int]] = (10, 10),
                 input_size: Sequence[int] = (1024, 128),
                 mlp_ratio: float = 4.0,
                 drop_rate: float = 0.0,
                 attn_drop_rate: float = 0.0,
                 drop_path_rate: float = 0.0,
                 out_tokens: str = 'patch',
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='TruncNormal', layer='Linear', std=0.02,
                     bias=0.)) -> None:
        super().__init__(init_cfg=init_cfg)
        self.patch_size = _pair(patch_size)
        self.stride = _pair(stride)
        self.input_size = _pair(input_size)
        if out_tokens not in ('patch', 'all'):
            raise ValueError("out_tokens must be 'patch' or 'all', got "
                             f'{out_tokens!r}')
        if any(i < p for i, p in zip(self.input_size, self.patch_size)):
            raise ValueError(f'input_size {self.input_size} is smaller than '
                             f'patch_size {self.patch_size}')
        self.out_tokens = out_tokens
        self.embed_dims = embed_dims
        self.grid = tuple((i - p) // s + 1 for i, p, s in zip(
            self.input_size, self.patch_size, self.stride))
        self.num_patches = self.grid[0] * self.grid[1]
        self.patch_embed = nn.Conv2d(
            1, embed_dims, kernel_size=self.patch_size, stride=self.stride)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(
            torch.zeros(1, self.num_patches + 2, embed_dims))
        for p in (self.cls_token, self.dist_token, self.pos_embed):
            nn.init.trunc_normal_(p, std=0.02)
        self.pos_drop = nn.Dropout(drop_rate)
        dpr = torch.linspace(0, drop_path_rate, num_layers).tolist()
        self.layers = nn.ModuleList([
            PreNormTransformerLayer(
                embed_dims,
                num_heads,
                ffn_ratio=mlp_ratio,
                attn_drop=attn_drop_rate,
                drop=drop_rate,
                drop_path=dpr[i]) for i in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims)

    @property
    def num_output_tokens(self) -> int:
        """``k``: patch tokens (+2 for ``out_tokens='all'``)."""
        return self.num_patches + (2 if self.out_tokens == 'all' else 0)

    def forward(self, x: Tensor) -> Tensor:
        """Encode a spectrogram.

        Args:
            x: ``[B, 1, F, M]`` log-mel (time frames × mel bins), with
                ``(F, M) == input_size``; ``[B, F, M]`` is also accepted.

        Returns:
            ``[B, k, C]`` patch tokens (``[B, k+2, C]`` with CLS and
            distillation tokens first for ``out_tokens='all'``).

        Raises:
            ValueError: wrong rank, channels != 1 or ``(F, M) !=
                input_size``.
        """
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[1] != 1 or tuple(
                x.shape[2:]) != self.input_size:
            raise ValueError(
                'AudioSpectrogramTransformer expects [B, 1, F, M] with (F, M)'
                f' = {self.input_size}, got {tuple(x.shape)}')
        b = x.shape[0]
        x = self.patch_embed(x).flatten(2).transpose(1, 2)  # [B, k, C]
        x = torch.cat([
            self.cls_token.expand(b, -1, -1),
            self.dist_token.expand(b, -1, -1), x
        ], dim=1)
        x = self.pos_drop(x + self.pos_embed)
        for layer in self.layers:
            x = layer(x)
        x = self.norm(x)
        return x[:, 2:] if self.out_tokens == 'patch' else x
