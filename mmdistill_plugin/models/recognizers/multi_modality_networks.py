"""Several single-modality recognizers trained together (DMCL, Mutual (Modality) Learning)."""
from typing import Dict, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.logging import print_log
from mmengine.model import BaseModel, ModuleDict
from mmengine.runner.checkpoint import _load_checkpoint
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from ..utils import (inflate_state_dict, preprocess_for, recognizer_logits, resolve_checkpoint,
                     teacher_state_dict)
from .logit_ensemble import head_classes


@MODELS.register_module()
class MultiModalityNetworks(BaseModel):
    """M recognizers, one per modality (or several per modality), trained jointly by one loss.

    Each member is any MMAction2 recognizer config (``Recognizer2D/3D``, ...) with its OWN
    ``data_preprocessor``; it reads ``inputs[input_keys[name]]`` (default: its own name) of the
    packed multimodal batch. One runner, one optimizer wrapper (use ``paramwise_cfg`` /
    ``custom_keys='members.<name>'`` for per-network groups), one checkpoint with keys
    ``members.<name>.*`` (``tools/export_student.py CONFIG CKPT --prefix members.rgb.
    --student-key members.rgb`` exports one member as a plain recognizer).

    Training: the logits of every member are stacked ``[M, B, C]`` and passed with the labels
    to ``strategy`` (``DMCLLoss``, ``SMCLLoss``, ``CMCLLoss``, ``RandomTeacherMCLLoss``,
    ``IndependentMCLLoss``, ``MutualLearningLoss``), which returns per-network
    ``loss_cls``/``loss_kd`` ``[M]`` and, for the MCL strategies, the winner of each sample.
    Logged: ``<name>.loss_cls``, ``<name>.loss_kd`` (summed into the loss) and
    ``winner_rate.<name>`` (fraction of the batch network ``name`` won; DMCL Fig. 3).

    Prediction: every member's logits (clip logits averaged, as a head's
    ``average_clips='score'``; a member head saying ``'prob'`` is refused, since it would be
    ignored) in ``pred_logits.<name>`` and its
    probabilities (softmax; sigmoid for ``multi_label``) in ``pred_scores.<name>``; evaluate
    with ``MultiModalityMetric`` (each modality, Σ, Φ).

    Stage initialisation (MML's RGB → ML → MML pipeline): ``member_init=dict(name=dict(
    checkpoint=FILE_OR_WORK_DIR, prefix='members.rgb_a.', strict=True))`` loads, after the
    members' own init, a checkpoint (of a plain recognizer: ``prefix=''``; of a previous
    ``MultiModalityNetworks``: ``'members.<name>.'``) into a member, inflating every conv kernel
    that differs only in its input channels (``W_new[:, i] = mean_c W[:, c]``, MML §2.1).
    ``init_weights`` runs only when training starts, so testing needs none of these files.

    Args:
        members (dict): ``name -> recognizer config``.
        strategy (dict): the loss config.
        input_keys (dict, optional): ``name -> modality key of inputs``; default: the name.
        multi_label (bool): labels are class-index lists turned into multi-hot ``[B, C]``
            (Charades); only ``MutualLearningLoss`` supports it.
        member_init (dict, optional): see above.
        test_members (Sequence[str], optional): members run at test time (default all).
        data_preprocessor (dict, optional): default ``BaseDataPreprocessor`` (device move only).

    Raises:
        ValueError: no members, members with different heads / class counts, unknown names in
            ``input_keys`` / ``member_init`` / ``test_members``, a member head with
            ``average_clips='prob'``.
        KeyError: (at run time) the batch lacks a member's input key.
        FileNotFoundError, RuntimeError: a ``member_init`` checkpoint missing or not fitting
            (the message names the member and the keys).
    """

    def __init__(self,
                 members: dict,
                 strategy: dict,
                 input_keys: Optional[Dict[str, str]] = None,
                 multi_label: bool = False,
                 member_init: Optional[dict] = None,
                 test_members: Optional[Sequence[str]] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not members:
            raise ValueError('MultiModalityNetworks needs at least one member')
        self.members = ModuleDict({n: MODELS.build(cfg) for n, cfg in members.items()})
        self.names = list(self.members)
        averaging = {n: getattr(getattr(m, 'cls_head', None), 'average_clips', None)
                     for n, m in self.members.items()}
        prob = sorted(n for n, a in averaging.items() if a == 'prob')
        if prob:
            raise ValueError(
                f"members {prob} have cls_head.average_clips='prob', but MultiModalityNetworks "
                "averages the clip LOGITS of every member (Σ sums them): set "
                "average_clips='score' (or leave it unset) so the config says what runs")
        for what, d in (('input_keys', input_keys), ('member_init', member_init)):
            unknown = set(d or {}) - set(self.names)
            if unknown:
                raise ValueError(f'{what} names {sorted(unknown)}, members are {self.names}')
        if test_members is not None and set(test_members) - set(self.names):
            raise ValueError(f'test_members {list(test_members)} are not all members '
                             f'{self.names}')
        self.input_keys = {n: (input_keys or {}).get(n, n) for n in self.names}
        self.strategy = MODELS.build(strategy)
        self.multi_label = multi_label
        self.member_init = dict(member_init or {})
        self.test_members = list(test_members) if test_members is not None else None
        classes = {n: head_classes(m) for n, m in self.members.items()}
        known = {n: c for n, c in classes.items() if c is not None}
        if len({tuple(sorted(c.items())) for c in known.values()}) > 1:
            raise ValueError('members must have the same heads and class counts; got ' +
                             ', '.join(f'{n}: {c}' for n, c in known.items()))
        self.num_classes = next(iter(known.values()), {}).get('item')

    # ---- initialisation ---------------------------------------------------------------------
    def init_weights(self):
        super().init_weights()
        for name, spec in self.member_init.items():
            self.load_member(name, **spec)

    def load_member(self, name: str, checkpoint: str, prefix: str = '',
                    strict: bool = True) -> list:
        """Load ``checkpoint`` (file or work dir; keys under ``prefix``) into member ``name``,
        inflating input convolutions whose channel count differs. Returns the inflated keys.

        Raises:
            RuntimeError: (``strict``) missing / unexpected / mismatched keys, named.
        """
        path = resolve_checkpoint(checkpoint)
        state = teacher_state_dict(_load_checkpoint(path, map_location='cpu'), prefix)
        model = self.members[name]
        own = model.state_dict()
        inflated = inflate_state_dict(state, own, 'auto')
        bad = [k for k in set(state) & set(own) if state[k].shape != own[k].shape]
        missing, unexpected = set(own) - set(state), set(state) - set(own)
        if strict and (bad or missing or unexpected):
            raise RuntimeError(
                f'member {name!r}: checkpoint {path} (prefix {prefix!r}) does not fit: missing '
                f'{sorted(missing)[:10]}, unexpected {sorted(unexpected)[:10]}, shape '
                f'mismatches {sorted(bad)[:10]}')
        model.load_state_dict({k: v for k, v in state.items() if k not in bad}, strict=False)
        print_log(f'member {name!r} initialised from {path} (prefix {prefix!r}); inflated '
                  f'{inflated or "nothing"}', logger='current')
        return inflated

    # ---- forward ----------------------------------------------------------------------------
    def member_logits(self, name: str, inputs, data_samples, test_mode: bool = False
                      ) -> torch.Tensor:
        """``[B, C]`` logits of member ``name`` on ``inputs[input_keys[name]]`` after its own
        preprocessor (clip / segment scores averaged per sample)."""
        model = self.members[name]
        x, samples = preprocess_for(model, inputs, data_samples, self.input_keys[name],
                                    not test_mode and self.training)
        logits = recognizer_logits(model, x, samples, test_mode=test_mode)
        if set(logits) != {'item'}:
            raise ValueError(f'member {name!r} has heads {sorted(logits)}; only single-head '
                             'recognizers are supported')
        return logits['item']

    def labels(self, data_samples, num_classes: int) -> torch.Tensor:
        """``[B]`` class indices, or ``[B, C]`` multi-hot for ``multi_label``."""
        labels = [ds.gt_labels.item.reshape(-1) for ds in data_samples]
        if not self.multi_label:
            return torch.cat([lab[:1] for lab in labels])
        out = torch.zeros(len(labels), num_classes, device=labels[0].device)
        for i, lab in enumerate(labels):  # a handful of indices per sample (collation only)
            out[i, lab.long()] = 1.0
        return out

    def loss(self, inputs, data_samples) -> dict:
        logits = torch.stack([self.member_logits(n, inputs, data_samples) for n in self.names])
        labels = self.labels(data_samples, logits.shape[-1]).to(logits.device)
        out = self.strategy(logits, labels)
        losses = {}
        for i, n in enumerate(self.names):
            losses[f'{n}.loss_cls'] = out['loss_cls'][i]
            losses[f'{n}.loss_kd'] = out['loss_kd'][i]
        winner = out.get('winner')
        if winner is not None:
            counts = torch.bincount(winner, minlength=len(self.names)).float() / winner.numel()
            for i, n in enumerate(self.names):
                losses[f'winner_rate.{n}'] = counts[i].detach()
        return losses

    def predict(self, inputs, data_samples):
        names = self.test_members or self.names
        logits = {n: self.member_logits(n, inputs, data_samples, test_mode=True) for n in names}
        act = torch.sigmoid if self.multi_label else (lambda z: F.softmax(z, -1))
        for i, ds in enumerate(data_samples):
            ds.pred_logits = LabelData(**{n: v[i] for n, v in logits.items()})
            ds.pred_scores = LabelData(**{n: act(v[i]) for n, v in logits.items()})
        return data_samples

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return {n: self.member_logits(n, inputs, data_samples, test_mode=True)
                    for n in (self.test_members or self.names)}
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
