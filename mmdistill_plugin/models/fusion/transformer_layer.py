# Copyright (c) mmdistill contributors.
"""Small pre-norm transformer encoder layer shared by the fusion block and the
token backbones (STLT, AST).

``nn.TransformerEncoderLayer`` has a single ``dropout`` argument that is used
for the attention weights *and* the residual / FFN dropout, so it cannot
express KARMMA's "30 % attention dropout" without also dropping activations.
This layer separates ``attn_drop`` (on the attention probabilities, via
``nn.MultiheadAttention(dropout=attn_drop)``), ``drop`` (on the residual
branches and inside the FFN) and ``drop_path`` (stochastic depth, AST/DeiT).
"""
from typing import Optional

from torch import Tensor, nn


class DropPath(nn.Module):
    """Stochastic depth per sample (Huang et al. 2016).

    Args:
        drop_prob (float): probability of dropping the residual branch for a
            sample. 0 disables it.
    """

    def __init__(self, drop_prob: float = 0.0) -> None:
        super().__init__()
        self.drop_prob = float(drop_prob)

    def forward(self, x: Tensor) -> Tensor:
        """``x``: ``[B, ...]`` -> same shape."""
        if self.drop_prob == 0.0 or not self.training:
            return x
        keep = 1.0 - self.drop_prob
        shape = (x.shape[0], ) + (1, ) * (x.ndim - 1)
        mask = x.new_empty(shape).bernoulli_(keep)
        return x * mask / keep

    def extra_repr(self) -> str:
        return f'drop_prob={self.drop_prob}'


class PreNormTransformerLayer(nn.Module):
    """Pre-norm transformer encoder layer.

    ``x = x + DropPath(Drop(MHA(LN(x))))``;
    ``x = x + DropPath(Drop(FFN(LN(x))))`` with
    ``FFN = Linear(D, r*D) -> GELU -> Drop -> Linear(r*D, D)``.

    Args:
        embed_dims (int): token dimension ``D``.
        num_heads (int): attention heads; must divide ``D``.
        ffn_ratio (float): hidden size of the FFN as a multiple of ``D``.
        attn_drop (float): dropout on the attention probabilities.
        drop (float): dropout on residual branches and the FFN hidden layer.
        drop_path (float): stochastic depth probability.

    Raises:
        ValueError: if ``embed_dims`` is not divisible by ``num_heads``.
    """

    def __init__(self,
                 embed_dims: int,
                 num_heads: int,
                 ffn_ratio: float = 4.0,
                 attn_drop: float = 0.0,
                 drop: float = 0.0,
                 drop_path: float = 0.0) -> None:
        super().__init__()
        if embed_dims % num_heads != 0:
            raise ValueError(f'embed_dims ({embed_dims}) must be divisible '
                             f'by num_heads ({num_heads})')
        hidden = int(embed_dims * ffn_ratio)
        self.norm1 = nn.LayerNorm(embed_dims)
        self.attn = nn.MultiheadAttention(
            embed_dims, num_heads, dropout=attn_drop, batch_first=True)
        self.norm2 = nn.LayerNorm(embed_dims)
        self.ffn = nn.Sequential(
            nn.Linear(embed_dims, hidden), nn.GELU(), nn.Dropout(drop),
            nn.Linear(hidden, embed_dims))
        self.drop = nn.Dropout(drop)
        self.drop_path = DropPath(drop_path)

    def forward(self,
                x: Tensor,
                key_padding_mask: Optional[Tensor] = None,
                attn_mask: Optional[Tensor] = None) -> Tensor:
        """Apply the layer.

        Args:
            x: ``[B, L, D]``.
            key_padding_mask: optional ``BoolTensor[B, L]``; True = this key is
                ignored. Every row must keep at least one False entry,
                otherwise the softmax is undefined (NaN).
            attn_mask: optional ``BoolTensor[L, L]``; True = not allowed.

        Returns:
            Tensor ``[B, L, D]``.
        """
        h = self.norm1(x)
        h = self.attn(
            h,
            h,
            h,
            key_padding_mask=key_padding_mask,
            attn_mask=attn_mask,
            need_weights=False)[0]
        x = x + self.drop_path(self.drop(h))
        x = x + self.drop_path(self.drop(self.ffn(self.norm2(x))))
        return x
