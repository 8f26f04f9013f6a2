# Copyright (c) mmdistill contributors.
"""Multi-head MLP of KARMMA (§3.2): shared FC, one classifier per output,
predictions averaged over the M+1 fusion tokens."""
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from mmengine.structures import LabelData
from torch import Tensor, nn

from mmaction.registry import MODELS


def _build_act(act_cfg: Optional[dict]) -> nn.Module:
    if act_cfg is None:
        return nn.Identity()
    cfg = dict(act_cfg)
    name = cfg.pop('type')
    if not hasattr(nn, name):
        raise ValueError(f'unknown activation type {name!r} (expected a '
                         'torch.nn activation name, e.g. GELU, ReLU)')
    return getattr(nn, name)(**cfg)


@MODELS.register_module()
class MultiHeadMLP(BaseModule):
    """Shared ``Linear(D, H) -> act -> Dropout`` followed by one
    ``Linear(H, n_h)`` per output head (KARMMA §3.2, "MH-MLP").

    The head is applied to every one of the ``T = M+1`` fusion tokens; the
    model output is the mean of the ``T`` per-token logits ("the final
    output ... is obtained by averaging the M+1 predictions"). Averaging is
    done on logits (decision left open by the paper; the mean of logits is
    what losses and softmax then see).

    Args:
        in_channels (int): token dim ``D``.
        num_classes (int | dict[str, int]): a single int gives one head named
            ``'item'`` (MMAction2's label field); a dict gives one head per
            output, e.g. ``dict(verb=97, noun=300)`` (order kept).
        hidden_dims (int | None): shared FC width ``H`` (default ``D``).
        dropout (float): dropout after the shared FC activation.
        act_cfg (dict | None): activation, a ``torch.nn`` class name in
            ``type`` (default GELU); None = no activation.
        loss_cls (dict): loss config built through the mmaction ``MODELS``
            registry (default ``CrossEntropyLoss`` with ``loss_weight=1``).
        average_clip (str): how :meth:`predict_by_feat` merges several clips
            per sample (``B*N`` rows for ``B`` data samples): ``'prob'``
            (mean of softmax, MMAction2 default) or ``'score'`` (mean of
            logits, then softmax).
        init_cfg (dict | list | None): mmengine init config (default:
            trunc-normal std 0.02 for the Linear layers).

    Raises:
        ValueError: empty / non-positive ``num_classes`` or unknown
            ``average_clip`` / activation.
    """

    def __init__(self,
                 in_channels: int,
                 num_classes: Union[int, Dict[str, int]],
                 hidden_dims: Optional[int] = None,
                 dropout: float = 0.0,
                 act_cfg: Optional[dict] = dict(type='GELU'),
                 loss_cls: dict = dict(
                     type='CrossEntropyLoss', loss_weight=1.0),
                 average_clip: str = 'prob',
                 init_cfg: Optional[Union[dict, List[dict]]] = dict(
                     type='TruncNormal', layer='Linear', std=0.02,
                     bias=0.)) -> None:
        super().__init__(init_cfg=init_cfg)
        if isinstance(num_classes, int):
            num_classes = {'item': num_classes}
        num_classes = dict(num_classes)
        if not num_classes or any(int(n) < 1 for n in num_classes.values()):
            raise ValueError('num_classes must be a positive int or a '
                             f'non-empty dict of positive ints, got '
                             f'{num_classes}')
        if average_clip not in ('prob', 'score'):
            raise ValueError("average_clip must be 'prob' or 'score', got "
                             f'{average_clip!r}')
        self.in_channels = in_channels
        self.num_classes = {k: int(v) for k, v in num_classes.items()}
        self.hidden_dims = hidden_dims or in_channels
        self.average_clip = average_clip
        self.shared = nn.Sequential(
            nn.Linear(in_channels, self.hidden_dims), _build_act(act_cfg),
            nn.Dropout(dropout))
        self.heads = nn.ModuleDict({
            name: nn.Linear(self.hidden_dims, n)
            for name, n in self.num_classes.items()
        })
        self.loss_cls = MODELS.build(loss_cls)

    @property
    def output_names(self) -> List[str]:
        """Head names in order, e.g. ``['item']`` or ``['verb', 'noun']``."""
        return list(self.num_classes)

    def forward_tokens(self, x: Tensor) -> Dict[str, Tensor]:
        """Per-token logits.

        Args:
            x: ``[B, T, D]`` (``T = M+1`` fusion tokens) or ``[B, D]``
                (treated as ``T = 1``).

        Returns:
            dict name -> ``[B, T, n_name]``.

        Raises:
            ValueError: ``x`` is not 2-D/3-D or its last dim is not ``D``.
        """
        if x.dim() == 2:
            x = x.unsqueeze(1)
        if x.dim() != 3 or x.shape[-1] != self.in_channels:
            raise ValueError(f'MultiHeadMLP expects [B, T, {self.in_channels}]'
                             f' or [B, {self.in_channels}], got '
                             f'{tuple(x.shape)}')
        h = self.shared(x)
        return {name: head(h) for name, head in self.heads.items()}

    def forward(self, x: Tensor, valid: Optional[Tensor] = None) -> Dict[str, Tensor]:
        """Model logits = mean over the ``T`` per-token logits.

        Args:
            x: ``[B, T, D]`` or ``[B, D]``.
            valid: optional ``BoolTensor[B, T]``: average only these tokens'
                logits (KARMMA supp. B "ignoring the missing modality": the
                present modalities' tokens and CLS). None = all ``T``.

        Returns:
            dict name -> ``[B, n_name]``.

        Raises:
            ValueError: ``valid`` is not ``[B, T]``.
        """
        logits = self.forward_tokens(x)
        if valid is None:
            return {k: v.mean(dim=1) for k, v in logits.items()}
        first = next(iter(logits.values()))
        if tuple(valid.shape) != tuple(first.shape[:2]):
            raise ValueError(f'valid must be [B, T] = {list(first.shape[:2])}, '
                             f'got {list(valid.shape)}')
        w = valid.to(first.dtype).unsqueeze(-1)  # [B, T, 1]
        return {k: (v * w).sum(1) / w.sum(1).clamp(min=1.0) for k, v in logits.items()}

    # ------------------------------------------------------------------ #
    def _labels(self, data_samples: Sequence, name: str,
                device: torch.device) -> Tensor:
        labels = []
        for ds in data_samples:
            gt = ds.gt_labels
            if name not in gt:
                raise ValueError(f'data sample gt_labels has no field {name!r}'
                                 f' (fields: {list(gt.keys())})')
            labels.append(torch.as_tensor(getattr(gt, name)).reshape(-1)[:1])
        return torch.cat(labels).to(device=device, dtype=torch.long)

    def loss(self, feats: Tensor, data_samples: Sequence, **kwargs) -> dict:
        """``loss_by_feat(self(feats), data_samples)`` (BaseHead API)."""
        return self.loss_by_feat(self(feats), data_samples)

    def loss_by_feat(self, cls_scores: Dict[str, Tensor],
                     data_samples: Sequence) -> dict:
        """Cross-entropy averaged over heads (Eq. 1).

        Args:
            cls_scores: name -> logits ``[B, n_name]`` (output of
                :meth:`forward`).
            data_samples: ``B`` ``ActionDataSample`` with
                ``gt_labels.<name>`` a ``LongTensor[1]`` per head.

        Returns:
            dict with ``loss_cls`` = mean over heads of
            ``loss_weight · CE(name)`` (= ``loss_weight`` × mean CE) and
            ``top1_acc_<name>`` per head (no gradient).

        Raises:
            ValueError: a head's field is missing from ``gt_labels``, the
                number of samples differs from the batch size, or a label is
                outside ``[0, num_classes)`` (naming the head and its count).
        """
        losses = []
        out = dict()
        for name in self.output_names:
            score = cls_scores[name]
            if score.shape[0] != len(data_samples):
                raise ValueError(f'head {name!r}: {score.shape[0]} score rows '
                                 f'but {len(data_samples)} data samples')
            labels = self._labels(data_samples, name, score.device)
            out_of_range = (labels < 0) | (labels >= score.shape[1])
            if labels.device.type != 'meta' and bool(out_of_range.any()):
                bad = labels[out_of_range]
                raise ValueError(f'MultiHeadMLP head {name!r} has num_classes={score.shape[1]}'
                                 f' but got labels {sorted(set(bad.tolist()))}; set the '
                                 "head's num_classes to the dataset's class count")
            losses.append(self.loss_cls(score, labels))
            with torch.no_grad():
                out[f'top1_acc_{name}'] = (score.argmax(dim=1) == labels).to(
                    score.dtype).mean()
        out['loss_cls'] = torch.stack(losses).mean()
        return out

    def predict(self, feats: Tensor, data_samples: Sequence,
                **kwargs) -> Sequence:
        """``predict_by_feat(self(feats), data_samples)`` (BaseHead API)."""
        return self.predict_by_feat(self(feats), data_samples)

    def predict_by_feat(self, cls_scores: Dict[str, Tensor],
                        data_samples: Sequence) -> Sequence:
        """Write predictions into the data samples.

        Args:
            cls_scores: name -> logits ``[B*N, n_name]``; ``N`` clips per
                sample (``N = rows / len(data_samples)``) are merged with
                ``average_clip``.
            data_samples: ``B`` ``ActionDataSample``.

        Returns:
            The same data samples with ``pred_scores = LabelData(name=
            FloatTensor[n_name])`` (softmax) and ``pred_labels =
            LabelData(name=LongTensor[1])`` (argmax).

        Raises:
            ValueError: rows not a multiple of ``len(data_samples)``.
        """
        b = len(data_samples)
        scores, labels = {}, {}
        for name in self.output_names:
            s = cls_scores[name]
            if s.shape[0] % b != 0:
                raise ValueError(f'head {name!r}: {s.shape[0]} score rows is '
                                 f'not a multiple of {b} data samples')
            s = s.reshape(b, s.shape[0] // b, -1)
            if self.average_clip == 'prob':
                p = F.softmax(s, dim=-1).mean(dim=1)
            else:
                p = F.softmax(s.mean(dim=1), dim=-1)
            scores[name] = p.detach()
            labels[name] = p.argmax(dim=-1, keepdim=True).detach()
        for i, ds in enumerate(data_samples):
            ds.pred_scores = LabelData(
                **{n: scores[n][i]
                   for n in self.output_names})
            ds.pred_labels = LabelData(
                **{n: labels[n][i]
                   for n in self.output_names})
        return data_samples
