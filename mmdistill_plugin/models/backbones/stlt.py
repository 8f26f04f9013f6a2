# Copyright (c) mmdistill contributors.
"""STLT: Spatial-Temporal Layout Transformer (Radevski et al., BMVC 2021)."""
from typing import List, Optional, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmaction.registry import MODELS
from ..fusion.transformer_layer import PreNormTransformerLayer


@MODELS.register_module()
class STLT(BaseModule):
    """Spatial-Temporal Layout Transformer over per-frame object/hand boxes.

    1. Box embedding (per box): ``Linear(4 -> C)(x1,y1,x2,y2)`` +
       ``Embedding(num_categories, C)(category)`` + ``Embedding(max_boxes,
       C)(slot index)`` (slot = box identity, fixed per video by the loader:
       object 0, object 1, ..., hand), then LayerNorm + dropout.
    2. Spatial transformer (``num_spatial_layers``) per frame over
       ``[frame token, box_1..box_K]``; padded boxes (valid flag 0) are
       key-padding-masked; the learned frame token is never masked, so a frame
       without any valid box is well defined (its output is a function of
       the frame token alone, no NaN). The frame token's output is the frame
       embedding.
    3. Temporal transformer (``num_temporal_layers``) over the ``T`` frame
       embeddings + learned temporal position embedding (``max_frames``,
       initialised N(0, 1): the scale of the LayerNorm-ed frame embeddings it
       is added to, so frame order is visible from the first step),
       optionally with a CLS token appended last; final LayerNorm.

    Decisions the papers leave open / differences from the reference code:
    pre-norm layers (reference: post-norm ``nn.TransformerEncoderLayer``);
    the slot embedding (not in the multimodal-distillation reference; makes
    the model sensitive to box identity, set ``with_slot_embedding=False``
    for a permutation-invariant spatial stage); bidirectional temporal
    attention by default (reference: causal mask + CLS last, use
    ``causal=True, with_cls_token=True``). Layer split: KARMMA's "STLT-12"
    (teacher) = 4 spatial + 8 temporal (the defaults here); "STLT-9"
    (student) = 3 spatial + 6 temporal (our choice, same 1:2 ratio).

    Args:
        embed_dims (int): ``C``.
        num_spatial_layers (int): spatial transformer depth.
        num_temporal_layers (int): temporal transformer depth.
        num_heads (int): attention heads (divides ``C``).
        max_boxes (int): maximum ``K`` (size of the slot embedding).
        max_frames (int): maximum ``T`` (size of the temporal embedding).
        num_categories (int): category ids (0 pad, 1 object, 2 hand).
        dropout (float): dropout on embeddings, attention and residuals.
        ffn_ratio (float): FFN hidden size / ``C``.
        with_slot_embedding (bool): add the slot (identity) embedding.
        with_cls_token (bool): append a temporal CLS token to the output.
        causal (bool): causal temporal attention (frame t sees frames <= t;
            the CLS, last, sees all).
        init_cfg (dict | list | None): mmengine init config.
    """

    def __init__(self,
                 embed_dims: int = 768,
                 num_spatial_layers: int = 4,
                 num_temporal_layers: int = 8,
                 num_heads: int = 12,
                 max_boxes: int = 8,
                 max_frames: int = 64,
                 num_categories: int = 3,
                 dropout: float = 0.1,
                 ffn_ratio: float = 4.0,
                 with_slot_embedding: bool = True,
                 with_cls_token: bool = False,
                 causal: bool = False,
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='TruncNormal', layer='Linear', std=0.02,
                     bias=0.)) -> None:
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.max_boxes = max_boxes
        self.max_frames = max_frames
        self.num_categories = num_categories
        self.with_cls_token = with_cls_token
        self.causal = causal
        self.box_embed = nn.Linear(4, embed_dims)
        self.category_embed = nn.Embedding(num_categories, embed_dims)
        self.slot_embed = (
            nn.Embedding(max_boxes, embed_dims)
            if with_slot_embedding else None)
        self.box_norm = nn.LayerNorm(embed_dims)
        self.frame_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.spatial_layers = nn.ModuleList([
            PreNormTransformerLayer(embed_dims, num_heads, ffn_ratio,
                                    dropout, dropout)
            for _ in range(num_spatial_layers)
        ])
        self.spatial_norm = nn.LayerNorm(embed_dims)
        self.temporal_pos = nn.Parameter(
            torch.zeros(1, max_frames, embed_dims))
        self.cls_token = (
            nn.Parameter(torch.zeros(1, 1, embed_dims))
            if with_cls_token else None)
        self.temporal_layers = nn.ModuleList([
            PreNormTransformerLayer(embed_dims, num_heads, ffn_ratio,
                                    dropout, dropout)
            for _ in range(num_temporal_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims)
        self.dropout = nn.Dropout(dropout)
        # Box-level embeddings on the scale of the coordinate projection (trunc-normal 0.02, the
        # Linear init_cfg): nn.Embedding's N(0, 1) would swamp the box coordinates after the sum.
        embeds = [self.category_embed.weight]
        if self.slot_embed is not None:
            embeds.append(self.slot_embed.weight)
        for p in (self.frame_token, self.cls_token, *embeds):
            if p is not None:
                nn.init.trunc_normal_(p, std=0.02)
        # The temporal position embedding is added to LayerNorm-ed frame embeddings (unit scale
        # per channel), so it is initialised at that scale (N(0, 1), nn.Embedding's default, as
        # the reference STLT's position embeddings). At 0.02 it was 50x smaller than the frame
        # embeddings: the temporal stage was nearly blind to frame order, so a clip and its time
        # reversal (left->right vs right->left) gave almost the same output.
        nn.init.normal_(self.temporal_pos, std=1.0)

    def forward(self, boxes: Tensor) -> Tensor:
        """Encode box layouts.

        Args:
            boxes: ``[B, T, K, 6]``: ``x1, y1, x2, y2`` normalized to
                [0, 1], category id (0 pad, 1 object, 2 hand), valid flag
                (1/0). ``T <= max_frames``, ``K <= max_boxes``.

        Returns:
            ``[B, T, C]`` (one token per frame), or ``[B, T+1, C]`` with the
            CLS token last when ``with_cls_token``.

        Raises:
            ValueError: wrong rank / last dim, ``T > max_frames``,
                ``K > max_boxes``, or a category id outside
                ``[0, num_categories)``.
        """
        if boxes.dim() != 4 or boxes.shape[-1] != 6:
            raise ValueError('STLT expects boxes of shape [B, T, K, 6], got '
                             f'{tuple(boxes.shape)}')
        b, t, k, _ = boxes.shape
        if t > self.max_frames:
            raise ValueError(f'STLT: {t} frames > max_frames '
                             f'({self.max_frames}); boxes {tuple(boxes.shape)}')
        if k > self.max_boxes:
            raise ValueError(f'STLT: {k} boxes per frame > max_boxes '
                             f'({self.max_boxes}); boxes '
                             f'{tuple(boxes.shape)}')
        valid = boxes[..., 5] > 0.5  # [B, T, K]
        cat = boxes[..., 4].round().long()
        cat = torch.where(valid, cat, torch.zeros_like(cat))
        if cat.numel() and (cat.min() < 0 or cat.max() >= self.num_categories):
            raise ValueError(f'STLT: category ids must be in [0, '
                             f'{self.num_categories}), got range '
                             f'[{int(cat.min())}, {int(cat.max())}]')
        coords = boxes[..., :4] * valid.unsqueeze(-1).to(boxes.dtype)
        x = self.box_embed(coords) + self.category_embed(cat)
        if self.slot_embed is not None:
            x = x + self.slot_embed.weight[:k]
        x = self.dropout(self.box_norm(x))  # [B, T, K, C]

        # spatial stage: every frame is an independent sequence
        x = x.reshape(b * t, k, self.embed_dims)
        x = torch.cat([self.frame_token.expand(b * t, -1, -1), x], dim=1)
        kpm = torch.cat([
            torch.zeros(b * t, 1, dtype=torch.bool, device=x.device),
            ~valid.reshape(b * t, k)
        ], dim=1)
        for layer in self.spatial_layers:
            x = layer(x, key_padding_mask=kpm)
        frames = self.spatial_norm(x[:, 0]).reshape(b, t, self.embed_dims)

        # temporal stage
        y = self.dropout(frames + self.temporal_pos[:, :t])
        if self.cls_token is not None:
            y = torch.cat([y, self.cls_token.expand(b, -1, -1)], dim=1)
        attn_mask = None
        if self.causal:
            n = y.shape[1]
            attn_mask = torch.ones(
                n, n, dtype=torch.bool, device=y.device).triu(1)
        for layer in self.temporal_layers:
            y = layer(y, attn_mask=attn_mask)
        return self.norm(y)
