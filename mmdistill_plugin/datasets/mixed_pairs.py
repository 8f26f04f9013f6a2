# Copyright (c) mmdistill contributors.
"""Mixup / CutMix of two samples in the dataset, with the pair and λ recorded in the view, so
teacher and student see the SAME mixed input and a teacher cache can replay it.

"Knowledge distillation: a good teacher is patient and consistent" (Beyer et al., CVPR 2022)
distils on mixed inputs with the teacher evaluated on exactly the student's mixed view
("function matching"). MMAction2 mixes a batch inside the data preprocessor
(``MixupBlending`` / ``CutmixBlending``), after ``DistillRecognizer`` splits teacher and student
inputs, and draws its pairs per batch, which a cache cannot replay. Here the mixing is a
property of the sample: :class:`MixedPairDataset` draws the partner ``j``, ``λ`` and (CutMix) the
box, mixes the two packed samples and records ``view['mix'] = dict(partner, draws, lam, box,
mode, num_classes)``; :class:`~mmdistill_plugin.datasets.TeacherCacheDataset` rebuilds the same
mixed input from a cached view (:func:`replay_mix`), whose stored teacher logits are the
teacher's output on that mixed input.
"""
import copy
from typing import Dict, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from mmengine.structures import LabelData

from mmaction.registry import DATASETS
from .transforms._utils import VISUAL_MODALITIES
from .transforms.view import REPLAY_KEY, VIEW_KEY

MIX_MODES = ('mixup', 'cutmix')


def rand_box(lam: float) -> list:
    """A relative ``[x1, y1, x2, y2]`` box of area about ``1 − λ`` centred at a uniform point
    (MMAction2's ``CutmixBlending.rand_bbox`` in relative coordinates; numpy's global RNG)."""
    cut = float(np.sqrt(1.0 - lam))
    cx, cy = float(np.random.uniform()), float(np.random.uniform())
    return [float(np.clip(cx - cut / 2, 0, 1)), float(np.clip(cy - cut / 2, 0, 1)),
            float(np.clip(cx + cut / 2, 0, 1)), float(np.clip(cy + cut / 2, 0, 1))]


def _soft(labels: LabelData, field: str, n: int) -> torch.Tensor:
    value = torch.as_tensor(labels.get(field))
    if value.is_floating_point() and value.numel() == n:
        return value.float()
    return F.one_hot(value.reshape(-1)[:1].long(), n)[0].float()


def mix_packed(a: dict, b: dict, lam: float, mode: str, box: Optional[Sequence[float]],
               num_classes: Union[int, Dict[str, int]]) -> dict:
    """``a`` mixed with ``b`` (packed samples, ``a`` modified): visual modalities of equal
    shapes ``λ·a + (1−λ)·b`` (mixup) or ``b`` pasted into the relative ``box`` (CutMix, the
    same box for every modality, scaled to its size); other modalities (audio, boxes) and the
    modality masks stay ``a``'s. Labels become soft, ``λ'·onehot(y_a) + (1−λ')·onehot(y_b)``
    per head, ``λ'`` = λ (mixup) or 1 − the box's area fraction (CutMix). Returns ``a``.

    Args:
        num_classes: classes of the single head (int) or ``head -> C``.
    """
    xa, xb = a['inputs'], b['inputs']
    lam_eff = float(lam)
    for m in [k for k in VISUAL_MODALITIES if k in xa and k in xb]:
        if xa[m].shape != xb[m].shape:
            continue
        if mode == 'mixup':
            xa[m] = lam * xa[m] + (1.0 - lam) * xb[m]
            continue
        h, w = xa[m].shape[-2:]
        x1, y1 = int(round(box[0] * w)), int(round(box[1] * h))
        x2, y2 = int(round(box[2] * w)), int(round(box[3] * h))
        xa[m] = xa[m].clone()
        xa[m][..., y1:y2, x1:x2] = xb[m][..., y1:y2, x1:x2]
        if m == next(k for k in VISUAL_MODALITIES if k in xa and k in xb):
            lam_eff = 1.0 - (x2 - x1) * (y2 - y1) / float(h * w)
    counts = num_classes if isinstance(num_classes, dict) else dict(item=int(num_classes))
    la, lb = a['data_samples'].gt_labels, b['data_samples'].gt_labels
    a['data_samples'].gt_labels = LabelData(**{
        f: lam_eff * _soft(la, f, n) + (1.0 - lam_eff) * _soft(lb, f, n)
        for f, n in counts.items()})
    a['data_samples'].set_metainfo(dict(mix_lam=lam_eff))
    return a


def replay_mix(dataset, packed: dict, mix: dict) -> dict:
    """Rebuild the mixed sample of a recorded ``mix`` (partner's draws replayed through
    ``dataset``'s pipeline); ``packed`` is the replayed primary sample."""
    info = dataset.get_data_info(int(mix['partner']))
    info[REPLAY_KEY] = mix['draws']
    partner = dataset.pipeline(info)
    return mix_packed(packed, partner, mix['lam'], mix['mode'], mix.get('box'),
                      mix['num_classes'])


@DATASETS.register_module()
class MixedPairDataset:
    """Wrap a training set: with probability ``prob`` each sample is mixed with a random
    partner (Mixup or CutMix, ``λ ~ Beta(α, α)``) and the pair recorded in its view.

    Use it as the training set of online distillation (teacher and student read the one mixed
    input) and of ``tools/cache_teacher.py`` (the cache stores the teacher's logits on the mixed
    input and the pair; the cached student's ``TeacherCacheDataset`` of the plain training set
    replays both samples and λ). The student's loss takes the soft labels (MMAction2 heads
    accept ``[C]`` probability labels).

    Args:
        dataset (dict): the training set's config.
        mode (str): ``'mixup'`` or ``'cutmix'``.
        alpha (float): Beta parameter (> 0).
        prob (float): probability that a sample is mixed.
        num_classes (int | dict): classes of the head(s), for the soft labels.

    Raises:
        ValueError: an unknown ``mode``, ``alpha`` <= 0, ``prob`` outside [0, 1].
    """

    def __init__(self, dataset, mode: str = 'mixup', alpha: float = 1.0, prob: float = 1.0,
                 num_classes: Union[int, Dict[str, int]] = None) -> None:
        if mode not in MIX_MODES or not alpha > 0 or not 0 <= prob <= 1 or num_classes is None:
            raise ValueError(f'MixedPairDataset: mode in {MIX_MODES}, alpha > 0, prob in [0, 1]'
                             f' and num_classes are needed; got mode={mode!r}, alpha={alpha}, '
                             f'prob={prob}, num_classes={num_classes}')
        self.dataset = dataset if not isinstance(dataset, dict) else \
            DATASETS.build(copy.deepcopy(dataset))
        self.mode, self.alpha, self.prob = mode, float(alpha), float(prob)
        self.num_classes = dict(num_classes) if isinstance(num_classes, dict) \
            else int(num_classes)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    @property
    def pipeline(self):
        return self.dataset.pipeline

    def full_init(self) -> None:
        self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def prepare_view(self, idx: int) -> dict:
        """The packed (possibly mixed) sample ``idx``; its ``view`` records the mix."""
        packed = self.dataset[idx]
        if np.random.rand() >= self.prob:
            return packed
        j = int(np.random.randint(len(self.dataset)))
        lam = float(np.random.beta(self.alpha, self.alpha))
        box = rand_box(lam) if self.mode == 'cutmix' else None
        partner = self.dataset[j]
        packed = mix_packed(packed, partner, lam, self.mode, box, self.num_classes)
        ds = packed['data_samples']
        view = dict(ds.metainfo.get(VIEW_KEY) or {})
        view['mix'] = dict(partner=j, draws=partner['data_samples'].metainfo.get(VIEW_KEY) or {},
                           lam=lam, box=box, mode=self.mode, num_classes=self.num_classes)
        ds.set_metainfo({VIEW_KEY: view})
        return packed

    def __getitem__(self, idx: int) -> dict:
        return self.prepare_view(idx)
