# Copyright (c) mmdistill contributors.
"""How a teacher cache stores logits (codecs) and which stored view a sample replays per epoch.

Storage codecs (``tools/cache_teacher.py --storage``), per sample-view and head of ``C``
classes:

- ``fp16``: the logits as float16, ``2·C`` bytes (the default; the format before codecs).
- ``topk``: the ``k`` largest logits (float16) and their class indices (uint16), plus the
  log-sum-exp of all ``C`` logits (float32): ``4·k + 4`` bytes. Decoding recovers the rest as
  FKD does (Shen & Xing, ECCV 2022; TinyViT's sparse soft labels likewise): the probability mass
  the top-k leave, ``1 − Σ_topk p_i`` (``p`` = softmax at T = 1), spread uniformly over the
  other ``C − k`` classes. The decoded logits are ``lse + log p̂``: the top-k equal the stored
  ones, every other class gets ``lse + log((1 − Σ_topk p_i) / (C − k))``, so both KL (any
  temperature) and logit-MSE distillation read them on the teacher's own scale.
- ``int8``: per sample-view affine 8-bit quantisation, ``q = round((z − min z) / s)``,
  ``s = (max z − min z) / 255``, with ``min z`` and ``s`` as float32: ``C + 8`` bytes; every
  logit is off by at most ``s / 2``.

View sampling (``TeacherCacheDataset(view_sampling=...)``) of the K stored views per sample:

- ``'random'``: a stored view drawn uniformly each time a sample is read (views repeat).
- ``'per_epoch'``: epoch ``e`` replays view ``e mod K`` of every sample, as FKD pre-generates
  one crop per epoch: with ``K >= max_epochs`` the student never sees a view twice, i.e. the
  views are as fresh as in online training, each with the teacher's exact target.
- ``'shuffle'``: each sample replays its K views in its own fixed random order (seeded by
  ``seed`` and the sample index), one per epoch: with ``K > max_epochs`` (a cache of more views
  than the epochs need) every epoch takes a distinct view sampled among the K.

The epoch comes from :class:`~mmdistill_plugin.datasets.ViewEpochSampler`
(``train_dataloader.sampler``), which yields ``(index, epoch)`` keys; mmengine's
``DistSamplerSeedHook`` sets its epoch.
"""
from typing import Dict, Optional, Sequence, Union

import numpy as np

VIEW_SAMPLING = ('random', 'per_epoch', 'shuffle')


class Float16Codec:
    """Logits as float16 (``2·C`` bytes per head and sample-view)."""

    name = 'fp16'

    def meta(self) -> dict:
        return dict(type=self.name)

    def bytes_per_view(self, num_classes: int) -> int:
        return 2 * num_classes

    def encode(self, logits: np.ndarray) -> Dict[str, np.ndarray]:
        """``{'': float16 [..., C]}``."""
        return {'': np.asarray(logits, np.float16)}

    def decode(self, parts: Dict[str, np.ndarray], num_classes: int) -> np.ndarray:
        return np.asarray(parts[''], np.float32)


class TopKCodec:
    """The ``k`` largest logits, their indices and the log-sum-exp; the rest recovered as FKD.

    Args:
        k (int): logits kept per head (1 <= k; ``k >= C`` keeps every class: exact up to
            float16).

    Raises:
        ValueError: ``k`` < 1.
    """

    name = 'topk'

    def __init__(self, k: int = 10) -> None:
        if int(k) < 1:
            raise ValueError(f'TopKCodec: k must be >= 1, got {k}')
        self.k = int(k)

    def meta(self) -> dict:
        return dict(type=self.name, k=self.k)

    def bytes_per_view(self, num_classes: int) -> int:
        k = min(self.k, num_classes)
        return 2 * k + (2 if num_classes <= 65536 else 4) * k + 4

    def encode(self, logits: np.ndarray) -> Dict[str, np.ndarray]:
        """``values`` float16 ``[..., k]`` (descending), ``indices`` uint16 ``[..., k]``,
        ``lse`` float32 ``[...]`` of logits ``[..., C]``."""
        z = np.asarray(logits, np.float64)
        c = z.shape[-1]
        k = min(self.k, c)
        idx = np.argsort(-z, axis=-1, kind='stable')[..., :k]
        top = np.take_along_axis(z, idx, -1)
        zmax = z.max(-1, keepdims=True)
        lse = (zmax + np.log(np.exp(z - zmax).sum(-1, keepdims=True)))[..., 0]
        itype = np.uint16 if c <= 65536 else np.int32
        return dict(values=top.astype(np.float16), indices=idx.astype(itype),
                    lse=lse.astype(np.float32))

    def decode(self, parts: Dict[str, np.ndarray], num_classes: int) -> np.ndarray:
        """Logits ``[..., C]``: the stored top-k, and ``lse + log(rest mass / (C − k))``
        elsewhere."""
        values = np.asarray(parts['values'], np.float64)
        idx = np.asarray(parts['indices'], np.int64)
        lse = np.asarray(parts['lse'], np.float64)[..., None]
        k = values.shape[-1]
        if k >= num_classes:
            out = np.empty(values.shape[:-1] + (num_classes, ))
            np.put_along_axis(out, idx, values, -1)
            return out.astype(np.float32)
        mass = np.exp(values - lse).sum(-1, keepdims=True)
        rest = np.clip(1.0 - mass, 1e-12, None) / (num_classes - k)
        out = np.broadcast_to(lse + np.log(rest), values.shape[:-1] + (num_classes, )).copy()
        np.put_along_axis(out, idx, values, -1)
        return out.astype(np.float32)


class Int8Codec:
    """Per sample-view affine 8-bit logits: ``q`` uint8 ``[..., C]``, ``low`` and ``scale``
    float32 ``[...]`` (``C + 8`` bytes)."""

    name = 'int8'

    def meta(self) -> dict:
        return dict(type=self.name)

    def bytes_per_view(self, num_classes: int) -> int:
        return num_classes + 8

    def encode(self, logits: np.ndarray) -> Dict[str, np.ndarray]:
        z = np.asarray(logits, np.float64)
        low = z.min(-1, keepdims=True)
        scale = (z.max(-1, keepdims=True) - low) / 255.0
        scale = np.where(scale > 0, scale, 1.0)
        q = np.clip(np.rint((z - low) / scale), 0, 255).astype(np.uint8)
        return dict(q=q, low=low[..., 0].astype(np.float32),
                    scale=scale[..., 0].astype(np.float32))

    def decode(self, parts: Dict[str, np.ndarray], num_classes: int) -> np.ndarray:
        low = np.asarray(parts['low'], np.float64)[..., None]
        scale = np.asarray(parts['scale'], np.float64)[..., None]
        return (low + np.asarray(parts['q'], np.float64) * scale).astype(np.float32)


CODECS = dict(fp16=Float16Codec, topk=TopKCodec, int8=Int8Codec)
Codec = Union[Float16Codec, TopKCodec, Int8Codec]


def build_codec(cfg: Union[None, str, dict, Codec] = None) -> Codec:
    """A codec from its name, its ``meta()`` dict (``dict(type='topk', k=10)``) or None (fp16).

    Raises:
        ValueError: an unknown codec name (the known ones listed).
    """
    if cfg is None:
        return Float16Codec()
    if isinstance(cfg, tuple(CODECS.values())):
        return cfg
    cfg = dict(type=cfg) if isinstance(cfg, str) else dict(cfg)
    name = cfg.pop('type')
    if name not in CODECS:
        raise ValueError(f'unknown teacher-cache storage {name!r}; one of {sorted(CODECS)}')
    return CODECS[name](**cfg)


def softmax(z: np.ndarray, tau: float = 1.0) -> np.ndarray:
    z = np.asarray(z, np.float64) / tau
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def mean_kl(exact: np.ndarray, stored: np.ndarray, tau: float = 1.0) -> float:
    """Mean over sample-views of ``KL(softmax(exact/τ) ‖ softmax(stored/τ))`` (nats):
    what a KD term at temperature τ loses by reading the stored logits."""
    p, q = softmax(exact, tau), softmax(stored, tau)
    kl = (p * (np.log(np.clip(p, 1e-300, None)) - np.log(np.clip(q, 1e-300, None)))).sum(-1)
    return float(kl.mean())


def choose_view(mode: str, index: int, epoch: Optional[int], views: int, seed: int = 0) -> int:
    """The stored view (0..K−1) sample ``index`` replays in ``epoch`` (see the module doc).

    Raises:
        ValueError: an unknown ``mode``; ``'per_epoch'`` / ``'shuffle'`` without an epoch (the
            train dataloader needs ``sampler=dict(type='ViewEpochSampler')``).
    """
    if mode not in VIEW_SAMPLING:
        raise ValueError(f'view_sampling must be one of {VIEW_SAMPLING}, got {mode!r}')
    if mode == 'random':
        return int(np.random.randint(views))
    if epoch is None:
        raise ValueError(f"view_sampling={mode!r} replays one view per epoch: give the train "
                         "dataloader sampler=dict(type='ViewEpochSampler', shuffle=True) so the "
                         'dataset knows the epoch')
    if mode == 'per_epoch':
        return int(epoch) % views
    order = np.random.default_rng([int(seed), int(index)]).permutation(views)
    return int(order[int(epoch) % views])


def distinct_views_per_sample(mode: str, views: int, epochs: int) -> int:
    """How many distinct views of a sample ``epochs`` epochs replay (expected, for
    ``'random'``: ``K·(1 − (1 − 1/K)^E)``)."""
    if mode == 'random':
        return int(round(views * (1 - (1 - 1 / views) ** epochs)))
    return min(views, epochs)


def sizes_table(codecs: Sequence[Codec], heads: Dict[str, int]) -> Dict[str, int]:
    """``codec name -> bytes per sample-view`` of the logits of ``heads`` (name -> C)."""
    return {c.name if c.name != 'topk' else f'topk{c.k}':
            sum(c.bytes_per_view(n) for n in heads.values()) for c in codecs}


__all__ = ['Float16Codec', 'TopKCodec', 'Int8Codec', 'build_codec', 'mean_kl', 'softmax',
           'choose_view', 'VIEW_SAMPLING', 'sizes_table', 'distinct_views_per_sample']
