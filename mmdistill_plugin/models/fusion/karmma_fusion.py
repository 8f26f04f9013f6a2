# Copyright (c) mmdistill contributors.
"""KARMMA fusion block (KARMMA §3.2, §3.4 Eq. 6, supplementary B)."""
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
from mmengine.model import BaseModule
from torch import Tensor, nn

from mmaction.registry import MODELS
from .transformer_layer import PreNormTransformerLayer

STRATEGIES = ('B1', 'B2', 'B3', 'B4', 'B5', 'none', 'ignore')
_USES_MODALITY_TOKEN = ('B1', 'B2', 'B5')
_USES_TOKEN_TOKENS = ('B3', 'B4', 'B5')


@MODELS.register_module()
class KARMMAFusionBlock(BaseModule):
    """Transformer fusion block with learned missing-modality tokens.

    Pipeline (KARMMA Fig. 2/3): per-modality ``Linear(C_m -> D)`` embedding
    of the (Θ-Average reduced) feature-extractor tokens ``t_i^m``; the
    missing-modality strategy builds the embedding output ``o_i^m``; the
    sequences of all modalities plus a learnable CLS token (appended last) go
    through ``num_layers`` pre-norm transformer layers and a final LayerNorm.
    Output row ``m < M`` is the mean of modality ``m``'s output tokens, row
    ``M`` is the CLS token.

    Strategies for ``o_i^m`` (available / missing; ``t̆^m`` = learned modality
    token ``[D]``, ``ṫ_i^m`` = learned token-specific tokens ``[k_m, D]``):

    * ``'B1'`` (Eq. B.1): ``t_i + t̆`` / a single token ``t̆``. To keep the
      batch vectorized the missing modality still occupies ``k_m`` slots:
      slot 0 holds ``t̆`` and slots ``1..k_m-1`` are key-padding-masked, so
      they are ignored by attention and by the modality mean (identical to
      really feeding one token; padded query rows are computed but unused).
    * ``'B2'`` (Eq. B.2): ``t_i + t̆`` / ``t̆`` replicated ``k_m`` times.
    * ``'B3'`` (Eq. B.3): ``t_i + ṫ_i`` / ``ṫ_i``.
    * ``'B4'`` (Eq. B.4): ``t_i`` / ``ṫ_i``.
    * ``'B5'`` (Eq. 6 / B.5, default): ``t_i + t̆ + ṫ_i`` / ``t̆ + ṫ_i``.
    * ``'none'``: ``t_i`` / zeros (no learned tokens: the "Baseline" and
      "modality dropout only" settings; zero-filling as in [56]).
    * ``'ignore'``: ``t_i`` / nothing: supp. B's other option, "ignoring the
      missing modality" (Tab. B.1 "Baseline w/ mod. drop."). Its ``k_m``
      slots are key-padding-masked (no token attends to them), its output
      row is zeros and ``output_valid`` marks it invalid, so the head
      averages only the present modalities' and the CLS predictions. No
      learned tokens: a model trained with ``'none'`` can be tested with
      ``'ignore'`` (same parameters) and vice versa.

    Missing-modality selection uses ``torch.where`` on the mask (no Python
    branching on data); raw inputs of a missing modality are zeroed before
    the projection, so its values (even NaN) never affect the output or the
    gradients.

    Args:
        in_channels (dict[str, int]): modality -> feature-extractor token
            dim ``C_m``. Key order defines the modality order (mask columns,
            output rows).
        num_tokens (dict[str, int]): modality -> tokens per modality ``k_m``
            after Θ-Average. Same keys as ``in_channels``.
        embed_dims (int): ``D`` (teacher 768, student 384).
        num_layers (int): ``l`` transformer layers (teacher 2, student 1).
        num_heads (int): attention heads (8).
        attn_drop (float): dropout on attention probabilities (teacher 0.3,
            student 0).
        drop (float): dropout on residual branches / FFN hidden layer.
        ffn_ratio (float): FFN hidden size / ``D``.
        strategy (str): one of ``'B1'..'B5'``, ``'none'``, ``'ignore'``.
        modalities (Sequence[str], optional): the modality order (mask
            columns, output rows, rows of the learned modality tokens).
            Defaults to the key order of ``in_channels``, which a config
            round trip does not keep (mmengine's ``Config.dump`` sorts dict
            keys), so :class:`MultimodalRecognizer` always passes its own
            ``modalities`` here.
        init_cfg (dict | list | None): mmengine init config.

    Raises:
        ValueError: unknown strategy, mismatching ``in_channels`` /
            ``num_tokens`` keys, or non-positive sizes.
    """

    def __init__(self,
                 in_channels: Dict[str, int],
                 num_tokens: Dict[str, int],
                 embed_dims: int = 768,
                 num_layers: int = 2,
                 num_heads: int = 8,
                 attn_drop: float = 0.3,
                 drop: float = 0.0,
                 ffn_ratio: float = 4.0,
                 strategy: str = 'B5',
                 modalities: Optional[Sequence[str]] = None,
                 init_cfg: Optional[Union[dict, List[dict]]] = None) -> None:
        super().__init__(init_cfg=init_cfg)
        if strategy not in STRATEGIES:
            raise ValueError(f'strategy must be one of {STRATEGIES}, '
                             f'got {strategy!r}')
        if set(in_channels) != set(num_tokens):
            raise ValueError('in_channels and num_tokens must have the same '
                             f'modality keys, got {list(in_channels)} and '
                             f'{list(num_tokens)}')
        if len(in_channels) == 0:
            raise ValueError('at least one modality is required')
        for m in in_channels:
            if int(in_channels[m]) < 1 or int(num_tokens[m]) < 1:
                raise ValueError(
                    f'modality {m!r}: in_channels ({in_channels[m]}) and '
                    f'num_tokens ({num_tokens[m]}) must be positive')
        if modalities is None:
            modalities = tuple(in_channels)
        elif sorted(modalities) != sorted(in_channels):
            raise ValueError(f'modalities {list(modalities)} must name the keys of '
                             f'in_channels / num_tokens {list(in_channels)}, each once')
        self.modalities: Tuple[str, ...] = tuple(modalities)
        self.in_channels = {m: int(in_channels[m]) for m in self.modalities}
        self.num_tokens = {m: int(num_tokens[m]) for m in self.modalities}
        self.embed_dims = embed_dims
        self.strategy = strategy

        self.embed = nn.ModuleDict({
            m: nn.Linear(self.in_channels[m], embed_dims)
            for m in self.modalities
        })
        if strategy in _USES_MODALITY_TOKEN:
            # t̆^m, one per modality, stacked in modality order: [M, D]
            self.modality_tokens = nn.Parameter(
                torch.zeros(len(self.modalities), embed_dims))
            nn.init.trunc_normal_(self.modality_tokens, std=0.02)
        else:
            self.modality_tokens = None
        if strategy in _USES_TOKEN_TOKENS:
            # ṫ_i^m: [k_m, D] per modality
            self.token_tokens = nn.ParameterDict({
                m: nn.Parameter(
                    nn.init.trunc_normal_(
                        torch.zeros(self.num_tokens[m], embed_dims),
                        std=0.02))
                for m in self.modalities
            })
        else:
            self.token_tokens = None
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        self.layers = nn.ModuleList([
            PreNormTransformerLayer(
                embed_dims,
                num_heads,
                ffn_ratio=ffn_ratio,
                attn_drop=attn_drop,
                drop=drop) for _ in range(num_layers)
        ])
        self.norm = nn.LayerNorm(embed_dims)

        # static segment layout: which output row each sequence slot feeds
        seg = []
        for i, m in enumerate(self.modalities):
            seg += [i] * self.num_tokens[m]
        seg.append(len(self.modalities))  # CLS
        self.register_buffer(
            '_segment_ids', torch.tensor(seg, dtype=torch.long),
            persistent=False)

    @property
    def num_modalities(self) -> int:
        """``M``."""
        return len(self.modalities)

    # ------------------------------------------------------------------ #
    def _check_inputs(self, tokens: Dict[str, Tensor],
                      mask: Optional[Union[Tensor, Dict[str, Tensor]]]
                      ) -> Tuple[int, Tensor]:
        if not isinstance(tokens, dict):
            raise ValueError('tokens must be a dict modality -> [B, k_m, C_m]'
                             f', got {type(tokens).__name__}')
        batch = None
        for m in self.modalities:
            if m not in tokens:
                raise ValueError(
                    f'modality {m!r} is missing from the fusion inputs '
                    f'(got keys {list(tokens)}); a missing modality must be '
                    'passed as a (zero) tensor with mask=False')
            x = tokens[m]
            exp = (self.num_tokens[m], self.in_channels[m])
            if x.dim() != 3 or tuple(x.shape[1:]) != exp:
                raise ValueError(
                    f'modality {m!r}: expected tokens of shape '
                    f'[B, {exp[0]}, {exp[1]}] (num_tokens[{m!r}]='
                    f'{exp[0]}, in_channels[{m!r}]={exp[1]}), got '
                    f'{tuple(x.shape)}')
            if batch is None:
                batch = x.shape[0]
            elif x.shape[0] != batch:
                raise ValueError(f'modality {m!r}: batch size {x.shape[0]} '
                                 f'differs from {batch}')
        device = tokens[self.modalities[0]].device
        if mask is None:
            mask = torch.ones(
                batch, self.num_modalities, dtype=torch.bool, device=device)
        elif isinstance(mask, dict):
            mask = torch.stack([
                torch.as_tensor(mask[m], device=device).reshape(-1)
                for m in self.modalities
            ], dim=1)
        mask = torch.as_tensor(mask, device=device).bool()
        if tuple(mask.shape) != (batch, self.num_modalities):
            raise ValueError(
                f'mask must have shape [B, M] = [{batch}, '
                f'{self.num_modalities}] (modalities {self.modalities}), '
                f'got {tuple(mask.shape)}')
        return batch, mask

    def embed_tokens(
        self,
        tokens: Dict[str, Tensor],
        mask: Optional[Union[Tensor, Dict[str, Tensor]]] = None
    ) -> Tuple[Tensor, Optional[Tensor]]:
        """Embedding layer + missing-modality strategy + CLS (no encoder).

        Args:
            tokens: modality -> ``[B, k_m, C_m]``.
            mask: ``BoolTensor[B, M]`` (True = available) or dict
                modality -> ``BoolTensor[B]``; ``None`` = all available.

        Returns:
            ``(seq, key_padding_mask)``: ``seq`` ``[B, L, D]`` with
            ``L = Σ k_m + 1`` (CLS last); ``key_padding_mask``
            ``BoolTensor[B, L]`` (True = ignored) for ``'B1'`` and
            ``'ignore'``, else None.
        """
        batch, mask = self._check_inputs(tokens, mask)
        parts, pads = [], []
        for i, m in enumerate(self.modalities):
            avail = mask[:, i].view(batch, 1, 1)
            x = tokens[m]
            x = torch.where(avail, x, torch.zeros((), dtype=x.dtype,
                                                  device=x.device))
            t = self.embed[m](x)  # [B, k, D]
            s = self.strategy
            if s in ('none', 'ignore'):
                o = torch.where(avail, t, torch.zeros_like(t))
            elif s in ('B1', 'B2'):
                tm = self.modality_tokens[i]  # [D]
                o = torch.where(avail, t + tm, tm.expand_as(t))
            elif s == 'B3':
                ti = self.token_tokens[m]  # [k, D]
                o = torch.where(avail, t + ti, ti.expand_as(t))
            elif s == 'B4':
                ti = self.token_tokens[m]
                o = torch.where(avail, t, ti.expand_as(t))
            else:  # 'B5', Eq. 6
                learned = self.modality_tokens[i] + self.token_tokens[m]
                o = torch.where(avail, t + learned, learned.expand_as(t))
            parts.append(o)
            if s == 'B1':
                k = self.num_tokens[m]
                extra = torch.arange(k, device=o.device) > 0  # [k]
                pads.append(~avail.view(batch, 1) & extra.view(1, k))
            elif s == 'ignore':
                pads.append(~avail.view(batch, 1).expand(batch, self.num_tokens[m]))
        parts.append(self.cls_token.expand(batch, -1, -1))
        seq = torch.cat(parts, dim=1)
        kpm = None
        if self.strategy in ('B1', 'ignore'):
            pads.append(
                torch.zeros(batch, 1, dtype=torch.bool, device=seq.device))
            kpm = torch.cat(pads, dim=1)
        return seq, kpm

    def encode(self,
               seq: Tensor,
               key_padding_mask: Optional[Tensor] = None) -> Tensor:
        """Transformer layers + final LayerNorm: ``[B, L, D] -> [B, L, D]``."""
        for layer in self.layers:
            seq = layer(seq, key_padding_mask=key_padding_mask)
        return self.norm(seq)

    def pool(self,
             seq: Tensor,
             key_padding_mask: Optional[Tensor] = None) -> Tensor:
        """Per-modality mean over non-padded slots + CLS:
        ``[B, L, D] -> [B, M+1, D]`` (one batched matmul); a modality with
        every slot padded (``'ignore'``, missing) gives a zero row."""
        n_out = self.num_modalities + 1
        onehot = nn.functional.one_hot(self._segment_ids, n_out).to(
            seq.dtype).t()  # [M+1, L]
        weights = onehot.unsqueeze(0).expand(seq.shape[0], -1, -1)
        if key_padding_mask is not None:
            weights = weights * (~key_padding_mask).to(seq.dtype).unsqueeze(1)
        weights = weights / weights.sum(dim=-1, keepdim=True).clamp(min=1e-12)
        return torch.bmm(weights, seq)

    def output_valid(self, mask: Optional[Tensor], batch: int,
                     device=None) -> Optional[Tensor]:
        """Which of the ``M+1`` output rows carry information.

        Args:
            mask: ``BoolTensor[B, M]`` availability (None = all available).

        Returns:
            ``BoolTensor[B, M+1]`` (availability, then True for CLS) with
            ``'ignore'`` (a missing modality's row is zeros and must not
            enter the prediction average); None for the other strategies
            (every row is valid: learned or zero tokens stand in).
        """
        if self.strategy != 'ignore' or mask is None:
            return None
        mask = torch.as_tensor(mask, device=device).bool()
        return torch.cat([mask, mask.new_ones(batch, 1)], dim=1)

    def forward(self,
                tokens: Dict[str, Tensor],
                mask: Optional[Union[Tensor, Dict[str, Tensor]]] = None,
                return_modality_features: bool = False
                ) -> Union[Tensor, Tuple[Tensor, Tensor]]:
        """Fuse the modalities.

        Args:
            tokens (dict[str, Tensor]): modality -> ``[B, k_m, C_m]`` (every
                configured modality must be present; a missing one is
                passed e.g. as zeros with ``mask`` False; extra keys are
                ignored).
            mask (BoolTensor | dict | None): ``[B, M]``, True = modality
                available, columns in modality order (or dict modality ->
                ``BoolTensor[B]``). ``None`` = all available.
            return_modality_features (bool): also return ``z`` =
                ``out[:, :M]``, the per-modality mean tokens ``z_m`` used by
                the InfoNCE alignment loss (Eq. 2).

        Returns:
            Tensor ``[B, M+1, D]`` (rows ``0..M-1`` = modality means in
            modality order, row ``M`` = CLS), or ``(out, z)`` with ``z``
            ``[B, M, D]`` when ``return_modality_features``.

        Raises:
            ValueError: a configured modality is missing from ``tokens``, a
                token tensor's shape differs from
                ``[B, num_tokens[m], in_channels[m]]``, batch sizes differ,
                or ``mask`` is not ``[B, M]``.
        """
        seq, kpm = self.embed_tokens(tokens, mask)
        seq = self.encode(seq, kpm)
        out = self.pool(seq, kpm)
        if return_modality_features:
            return out, out[:, :self.num_modalities]
        return out
