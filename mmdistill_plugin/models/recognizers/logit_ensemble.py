"""A frozen teacher made of several recognizers, each loaded from its own checkpoint."""
import json
from typing import Dict, Iterable, Mapping, Optional, Union

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


WEIGHTINGS = ('mean', 'per_sample', 'dataset')


def member_ce(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """``[B, M]`` cross-entropy of each member's logits ``[B, M, C]`` on the labels ``[B]``."""
    b, m, c = logits.shape
    ce = F.cross_entropy(logits.reshape(b * m, c).float(), labels.repeat_interleave(m),
                         reduction='none')
    return ce.view(b, m)


def per_sample_weights(logits: torch.Tensor, labels: torch.Tensor,
                       temperature: float = 1.0) -> torch.Tensor:
    """``[B, M]`` weights ``softmin_m(CE_m(x, y) / T)``: per sample, the members that predict the
    label better weigh more (the reference implementation's ``per-sample`` scheme of Radevski
    et al.). ``logits``: ``[B, M, C]`` of the M members; ``labels``: ``[B]`` class indices."""
    return F.softmin(member_ce(logits, labels) / temperature, dim=1)


def dataset_weights(mean_ce: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
    """``[M]`` weights ``softmin_m(mean CE_m / T)`` from each member's mean cross-entropy on a
    held-out pass (the reference implementation's ``full-dataset`` scheme)."""
    return F.softmin(mean_ce.float() / temperature, dim=0)


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

    ``weighting`` chooses the weights (the paper uses the mean; the authors' reference code also
    offers the two others):

    - ``'mean'``: fixed ``w_m`` (uniform ``1/M`` = the paper's mean, or the given ``weights``);
    - ``'per_sample'``: ``w_m(x) = softmin_m(CE(z_m(x), y) / T_w)`` for each sample and head,
      from the labels of the data samples (:func:`per_sample_weights`); the teacher then leans
      on the members right about THIS sample (in ``predict`` too: an accuracy measured so is
      label-informed, not a deployable model's);
    - ``'dataset'``: fixed ``w_m = softmin_m(mean CE_m / T_w)`` fitted once on held-out data
      (:meth:`fit_dataset_weights`, ``tools/fit_teacher_weights.py``); ``weights`` gives them
      (a dict, per head or for every head, or the JSON file the tool writes).

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
        weights (dict | str, optional): ``name -> weight ≥ 0`` (normalised to sum to 1), or
            ``head -> {name -> weight}``, or the path of a JSON file holding either (as written
            by ``tools/fit_teacher_weights.py``); None = uniform. Not with ``'per_sample'``;
            required with ``'dataset'``.
        weighting (str): ``'mean'`` (default, the paper), ``'per_sample'`` or ``'dataset'``.
        weights_temperature (float): ``T_w`` of the softmin (> 0; the reference's
            ``WEIGHTS_TEMPERATURE``). Defaults to 1.0.
        data_preprocessor (dict, optional): Defaults to ``BaseDataPreprocessor`` (device move).

    Shapes: ``inputs[modality]`` is the collated list of ``[N, C, T, H, W]`` (or a stacked
    ``[B, N, C, T, H, W]``); logits are ``dict(head -> [B, num_classes])`` (``item`` for a
    single head), clip scores averaged per sample.

    Raises:
        ValueError: no members, unknown keys in a member entry, weights that do not name the
            members or are negative / sum to 0, members whose heads or class counts differ, an
            unknown ``weighting``, ``weights`` with ``'per_sample'`` or none with
            ``'dataset'``, a ``weights_temperature`` <= 0; (at run time) ``'per_sample'``
            without the labels of a head in the data samples.
        TeacherCheckpointError: a member checkpoint that does not fit its config (the message
            names the member and the missing/unexpected/mismatched keys).
        FileNotFoundError: a member checkpoint that does not exist (names the member).
    """

    MEMBER_KEYS = ('model', 'checkpoint', 'modality', 'checkpoint_prefix')

    def __init__(self,
                 members: dict,
                 weights: Optional[Union[dict, str]] = None,
                 weighting: str = 'mean',
                 weights_temperature: float = 1.0,
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
        if weighting not in WEIGHTINGS:
            raise ValueError(f'LogitEnsemble weighting must be one of {WEIGHTINGS}, got '
                             f'{weighting!r}')
        if not weights_temperature > 0:
            raise ValueError(f'LogitEnsemble weights_temperature must be > 0, got '
                             f'{weights_temperature}')
        if weighting == 'per_sample' and weights is not None:
            raise ValueError("LogitEnsemble weighting='per_sample' computes the weights of each "
                             'sample; do not give weights')
        if weighting == 'dataset' and weights is None:
            raise ValueError("LogitEnsemble weighting='dataset' needs the fitted weights (a "
                             'dict or the JSON file of tools/fit_teacher_weights.py)')
        self.weighting = weighting
        self.weights_temperature = float(weights_temperature)
        if isinstance(weights, str):
            with open(weights) as f:
                weights = json.load(f)
            weights = weights.get('weights', weights)
        self.weights = self._normalised_weights(weights)
        self.head_classes = self._check_heads()

    def _normalised_weights(self, weights: Optional[dict]):
        """``name -> w`` (or ``head -> {name -> w}``), each set normalised to sum to 1."""
        names = list(self.members)
        if weights is None:
            return {n: 1.0 / len(names) for n in names}
        if weights and all(isinstance(v, Mapping) for v in weights.values()):
            return {h: self._normalised_weights(dict(v)) for h, v in weights.items()}
        if set(weights) != set(names):
            raise ValueError(f'LogitEnsemble weights name {sorted(weights)}, members are '
                             f'{sorted(names)}')
        if any(float(w) < 0 for w in weights.values()) or sum(weights.values()) <= 0:
            raise ValueError(f'LogitEnsemble weights must be >= 0 with a positive sum: {weights}')
        total = float(sum(weights.values()))
        return {n: float(weights[n]) / total for n in names}

    def fixed_weights(self, head: str) -> Dict[str, float]:
        """The fixed ``name -> w`` of ``head`` (``'mean'`` / ``'dataset'``).

        Raises:
            KeyError: per-head weights that do not name ``head``.
        """
        if self.weights and all(isinstance(v, Mapping) for v in self.weights.values()):
            if head not in self.weights:
                raise KeyError(f'LogitEnsemble weights are given for heads {sorted(self.weights)}'
                               f', not for {head!r}')
            return self.weights[head]
        return self.weights

    @staticmethod
    def head_labels(data_samples, head: str) -> torch.Tensor:
        """``[B]`` labels of ``head`` (``gt_labels.<head>``, first index of each sample)."""
        try:
            return torch.cat([ds.gt_labels.get(head).reshape(-1)[:1] for ds in data_samples])
        except (AttributeError, TypeError) as err:
            raise ValueError(f"LogitEnsemble weighting='per_sample' needs gt_labels.{head} in "
                             'every data sample (the labels of the batch)') from err

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
        """``Σ_m w_m · z_m`` per head, ``dict(head -> [B, num_classes])`` (``w_m`` per sample
        with ``weighting='per_sample'``).

        Raises:
            KeyError: ``inputs`` lacks a member's modality.
            ValueError: members return different heads or shapes; ``'per_sample'`` without
                labels.
        """
        names = list(self.members)
        per = {n: self.member_logits(n, inputs, data_samples, test_mode) for n in names}
        first = per[names[0]]
        for name in names[1:]:
            logits = per[name]
            if set(logits) != set(first) or any(logits[h].shape != first[h].shape
                                                for h in first):
                raise ValueError(f'member {name!r} returned heads '
                                 f'{ {h: tuple(v.shape) for h, v in logits.items()} }, '
                                 f'others { {h: tuple(v.shape) for h, v in first.items()} }')
        out = {}
        for h in first:
            z = torch.stack([per[n][h] for n in names], 1)  # [B, M, C]
            if self.weighting == 'per_sample':
                labels = self.head_labels(data_samples, h).to(z.device).long()
                w = per_sample_weights(z, labels, self.weights_temperature).to(z.dtype)
            else:
                fixed = self.fixed_weights(h)
                w = z.new_tensor([fixed[n] for n in names]).expand(z.shape[0], -1)
            out[h] = (w.unsqueeze(-1) * z).sum(1)
        return out

    @torch.no_grad()
    def fit_dataset_weights(self, batches: Iterable[dict], temperature: Optional[float] = None
                            ) -> Dict[str, dict]:
        """Fit the ``'dataset'`` weights on held-out data: every member's mean cross-entropy
        per head over ``batches`` (``dict(inputs, data_samples)`` as a dataloader yields them),
        then ``softmin(mean CE / T_w)``.

        Returns ``dict(weights={head: {name: w}}, mean_ce={head: {name: ce}}, samples=N,
        temperature=T_w)`` (JSON-ready); load the weights with ``weighting='dataset',
        weights=<that dict or its file>``. Members run in eval mode without test-time
        augmentation differences (``test_mode=False``: one clip as in training).
        """
        temperature = self.weights_temperature if temperature is None else float(temperature)
        names = list(self.members)
        sums, count = {}, 0
        for batch in batches:
            data = self.data_preprocessor(batch, False)
            samples = data['data_samples']
            per = {n: self.member_logits(n, data['inputs'], samples) for n in names}
            for h in per[names[0]]:
                z = torch.stack([per[n][h] for n in names], 1)
                labels = self.head_labels(samples, h).to(z.device).long()
                ce = member_ce(z, labels).sum(0).double().cpu()
                sums[h] = sums.get(h, 0) + ce
            count += len(samples)
        if not count:
            raise ValueError('fit_dataset_weights: no samples in the held-out batches')
        mean_ce = {h: v / count for h, v in sums.items()}
        weights = {h: dataset_weights(v, temperature) for h, v in mean_ce.items()}
        return dict(weights={h: {n: float(w[i]) for i, n in enumerate(names)}
                             for h, w in weights.items()},
                    mean_ce={h: {n: float(v[i]) for i, n in enumerate(names)}
                             for h, v in mean_ce.items()},
                    samples=count, temperature=temperature)

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
