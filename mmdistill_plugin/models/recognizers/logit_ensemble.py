"""A frozen teacher made of several recognizers, each loaded from its own checkpoint."""
from typing import Dict, Mapping, Optional

import torch
import torch.nn.functional as F
from mmengine.model import BaseModel, ModuleDict
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from ..utils import TeacherCheckpointError, load_teacher, preprocess_for, recognizer_logits


def head_classes(model) -> Optional[Dict[str, int]]:
    """``dict(head -> num_classes)`` of a recognizer, or None when it cannot be read.

    A head with an int ``num_classes`` (MMAction2's heads) is named ``item``.
    """
    own = getattr(model, 'head_classes', None)  # e.g. a nested LogitEnsemble
    if isinstance(own, Mapping):
        return dict(own)
    head = getattr(model, 'cls_head', None)
    n = getattr(head, 'num_classes', None)
    if isinstance(n, int):
        return {'item': n}
    if isinstance(n, Mapping):
        return {k: int(v) for k, v in n.items()}
    return None


@MODELS.register_module()
class LogitEnsemble(BaseModel):
    """Teacher = weighted mean of the logits of per-modality recognizers (Radevski et al.).

    The multimodal teacher of "multimodal teacher → RGB student" averages the logits of models
    trained on single modalities (RGB, flow, boxes, ...), each from its own checkpoint:

        z_T = Σ_m w_m · z_m,   w_m ≥ 0,  Σ_m w_m = 1   (uniform: w_m = 1/M, the plain mean)

    The reference code sums weighted logits with uniform weights by default; we normalise the
    weights to sum to 1 so the teacher's logits keep the members' scale (a KD temperature set
    for one model stays meaningful). Scaling all logits by a constant would change the softmax,
    so this is a choice: give ``weights`` to change the mix, not the scale.

    Every member is built from its own config (with its OWN ``data_preprocessor``: its
    mean/std/format), loaded strictly with :func:`load_teacher`, frozen (no gradients) and
    kept in eval mode whatever ``train()`` is called with (the ensemble itself reports
    ``training=False``). The ensemble's own ``data_preprocessor`` only moves data to the device
    (``BaseDataPreprocessor``); each member normalises ``inputs[member.modality]`` with its own
    preprocessor inside :meth:`forward_logits`, so ``DistillRecognizer`` (which calls
    ``teacher.data_preprocessor`` first) and a plain val loop both work.

    Config example::

        model = dict(
            type='LogitEnsemble',
            members=dict(
                rgb=dict(model=dict(type='Recognizer3D', ...,
                                    data_preprocessor=dict(type='ActionDataPreprocessor',
                                                           mean=[123.675, 116.28, 103.53],
                                                           std=[58.395, 57.12, 57.375],
                                                           format_shape='NCTHW')),
                         checkpoint='work_dirs/rgb/best.pth', modality='rgb'),
                flow=dict(model=dict(type='Recognizer3D', ...,
                                     data_preprocessor=dict(type='ActionDataPreprocessor',
                                                            mean=[127.5, 127.5],
                                                            std=[127.5, 127.5],
                                                            format_shape='NCTHW')),
                          checkpoint='work_dirs/flow', modality='flow')),
            weights=None)

    A member entry: ``model`` (config), ``checkpoint`` (file or work dir; None keeps the built
    weights, e.g. when a whole-ensemble checkpoint is loaded afterwards), ``modality`` (the
    input key; None passes the whole input dict, for a ``MultimodalRecognizer`` member) and
    ``checkpoint_prefix`` (e.g. ``'student.'`` for a distilled student).

    To evaluate the ensemble itself with ``tools/test.py``, its members hold their weights
    already; the runner's ``load_from`` is loaded non-strictly, so pass a checkpoint saved as
    ``dict(state_dict=ensemble.state_dict())`` (keys ``members.<name>.*``) or accept its
    warnings about unmatched keys.

    Args:
        members (dict): ``name -> dict(model, checkpoint=None, modality=None,
            checkpoint_prefix='')``.
        weights (dict, optional): ``name -> weight ≥ 0`` (normalised to sum to 1);
            None = uniform.
        data_preprocessor (dict, optional): Defaults to ``BaseDataPreprocessor`` (device move).

    Shapes: ``inputs[modality]`` is the collated list of ``[N, C, T, H, W]`` (or a stacked
    ``[B, N, C, T, H, W]``); logits are ``dict(head -> [B, num_classes])`` (``item`` for a
    single head), clip scores averaged per sample.

    Raises:
        ValueError: no members, unknown keys in a member entry, weights that do not name the
            members or are negative / sum to 0, members whose heads or class counts differ.
        TeacherCheckpointError: a member checkpoint that does not fit its config (the message
            names the member and the missing/unexpected/mismatched keys).
        FileNotFoundError: a member checkpoint that does not exist (names the member).
    """

    MEMBER_KEYS = ('model', 'checkpoint', 'modality', 'checkpoint_prefix')

    def __init__(self,
                 members: dict,
                 weights: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if not members:
            raise ValueError('LogitEnsemble needs at least one member')
        built, self.member_modality = {}, {}
        for name, spec in members.items():
            unknown = set(spec) - set(self.MEMBER_KEYS)
            if unknown or 'model' not in spec:
                raise ValueError(f'LogitEnsemble member {name!r}: entries must be '
                                 f'{self.MEMBER_KEYS} with "model" required; got {sorted(spec)}')
            model = MODELS.build(spec['model'])
            ckpt = spec.get('checkpoint')
            if ckpt is not None:
                try:
                    load_teacher(model, ckpt, spec.get('checkpoint_prefix', '') or '')
                except TeacherCheckpointError as err:
                    raise TeacherCheckpointError(
                        f'LogitEnsemble member {name!r}: {err}') from err
                except FileNotFoundError as err:
                    raise FileNotFoundError(
                        f'LogitEnsemble member {name!r}: {err}') from err
            model.requires_grad_(False)
            model.eval()
            built[name] = model
            self.member_modality[name] = spec.get('modality')
        self.members = ModuleDict(built)
        self.weights = self._normalised_weights(weights)
        self.head_classes = self._check_heads()

    def _normalised_weights(self, weights: Optional[dict]) -> Dict[str, float]:
        names = list(self.members)
        if weights is None:
            return {n: 1.0 / len(names) for n in names}
        if set(weights) != set(names):
            raise ValueError(f'LogitEnsemble weights name {sorted(weights)}, members are '
                             f'{sorted(names)}')
        if any(float(w) < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f'LogitEnsemble weights must be >= 0 with a positive sum: {weights}')
        total = float(sum(weights.values()))
        return {n: float(weights[n]) / total for n in names}

    def _check_heads(self) -> Optional[Dict[str, int]]:
        classes = {n: head_classes(m) for n, m in self.members.items()}
        known = {n: c for n, c in classes.items() if c is not None}
        if len(set(map(lambda c: tuple(sorted(c.items())), known.values()))) > 1:
            raise ValueError('LogitEnsemble members must have the same heads and class counts; '
                             'got ' + ', '.join(f'{n}: {c}' for n, c in known.items()))
        return next(iter(known.values())) if len(known) == len(classes) else None

    # ``DistillRecognizer`` sets ``mask_key='modality_present'`` on teachers: pass it on.
    @property
    def mask_key(self):
        return next((m.mask_key for m in self.members.values() if hasattr(m, 'mask_key')),
                    None)

    @mask_key.setter
    def mask_key(self, value):
        for m in self.members.values():
            if hasattr(m, 'mask_key'):
                m.mask_key = value

    def train(self, mode: bool = True):
        """Always eval: the ensemble is a frozen teacher."""
        return super().train(False)

    def init_weights(self):
        """Nothing to initialise: members hold their checkpoints' weights."""

    @torch.no_grad()
    def member_logits(self, name: str, inputs, data_samples,
                      test_mode: bool = False) -> Dict[str, torch.Tensor]:
        """Logits of one member on ``inputs[member modality]`` after its own preprocessor."""
        model = self.members[name]
        x, samples = preprocess_for(model, inputs, data_samples, self.member_modality[name],
                                    False)
        return recognizer_logits(model, x, samples, test_mode=test_mode)

    @torch.no_grad()
    def forward_logits(self, inputs, data_samples, test_mode: bool = False
                       ) -> Dict[str, torch.Tensor]:
        """``Σ_m w_m · z_m`` per head, ``dict(head -> [B, num_classes])``.

        Raises:
            KeyError: ``inputs`` lacks a member's modality.
            ValueError: members return different heads or shapes.
        """
        out = None
        for name, w in self.weights.items():
            logits = self.member_logits(name, inputs, data_samples, test_mode)
            if out is None:
                out = {h: w * v for h, v in logits.items()}
                continue
            if set(logits) != set(out) or any(logits[h].shape != out[h].shape for h in out):
                raise ValueError(f'member {name!r} returned heads '
                                 f'{ {h: tuple(v.shape) for h, v in logits.items()} }, '
                                 f'others { {h: tuple(v.shape) for h, v in out.items()} }')
            for h in out:
                out[h] = out[h] + w * logits[h]
        return out

    def predict(self, inputs, data_samples):
        """Data samples with ``pred_scores = LabelData(head=softmax [C])`` and ``pred_labels =
        LabelData(head=LongTensor[1])`` of the ensemble's logits."""
        logits = self.forward_logits(inputs, data_samples, test_mode=True)
        for i, ds in enumerate(data_samples):
            ds.pred_scores = LabelData(**{h: F.softmax(v[i], -1) for h, v in logits.items()})
            ds.pred_labels = LabelData(**{h: v[i].argmax(-1, keepdim=True)
                                          for h, v in logits.items()})
        return data_samples

    def loss(self, inputs, data_samples):
        raise RuntimeError('LogitEnsemble is a frozen teacher: it has no training loss; use it '
                           'as DistillRecognizer.teacher or evaluate it with mode="predict"')

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_logits(inputs, data_samples, test_mode=True)
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
