"""Calibration teachers for the distillation suites (mm2rgb, d3d): a planted, known effect.

``LabelTeacher`` is a "teacher" whose logits come from the label, not from the video:

* ``mode='oracle'``: ``scale · onehot(y)`` (it sees the label);
* ``mode='blind'``: zeros for every clip (it knows nothing; uniform after a softmax).

A student trained on the distillation term alone (its own cross-entropy weight 0) learns the
task from the oracle and nothing from the blind teacher: "oracle student > blind student" is a
positive control with a known sign. It fails when the teacher's logits do not reach the student's
loss, or reach it for other clips than the ones the student sees (a batching / ordering bug),
or when the suite's interval machinery cannot detect a large effect.

Registered in MMAction2's ``MODELS`` on import; a run's config imports it with
``custom_imports=dict(imports=['mmdistill_plugin', 'benchmarks.reproduce.controls'])`` (the
suites run ``tools/train.py`` from the repository root with it on ``PYTHONPATH``).
"""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModel

from mmaction.registry import MODELS


@MODELS.register_module(force=True)  # the suites import it by path and by module name
class LabelTeacher(BaseModel):
    """Logits ``[B, num_classes]`` from ``data_samples[i].gt_labels.item`` (oracle) or zeros.

    Args:
        num_classes (int): classes ``C``.
        mode (str): ``'oracle'`` or ``'blind'``.
        scale (float): the oracle's logit for the true class (others 0).

    Raises:
        ValueError: an unknown ``mode`` or ``num_classes < 2``; (at call time) a label outside
            ``[0, C)``.
    """

    def __init__(self, num_classes: int, mode: str = 'oracle', scale: float = 10.0,
                 data_preprocessor: Optional[dict] = None) -> None:
        super().__init__(data_preprocessor=data_preprocessor)
        if mode not in ('oracle', 'blind'):
            raise ValueError(f"LabelTeacher mode must be 'oracle' or 'blind', got {mode!r}")
        if num_classes < 2:
            raise ValueError(f'LabelTeacher needs num_classes >= 2, got {num_classes}')
        self.num_classes = int(num_classes)
        self.mode = mode
        self.scale = float(scale)

    def forward_logits(self, inputs, data_samples: Sequence,
                       test_mode: bool = False) -> Dict[str, torch.Tensor]:
        """``dict(item=[B, C])`` for the ``B = len(data_samples)`` clips (inputs unused)."""
        out = torch.zeros(len(data_samples), self.num_classes)
        if self.mode == 'oracle':
            labels = torch.cat([torch.as_tensor(ds.gt_labels.item).reshape(-1)[:1]
                                for ds in data_samples]).long()
            if labels.numel() and (labels.min() < 0 or labels.max() >= self.num_classes):
                raise ValueError(f'LabelTeacher: labels {labels.tolist()} outside '
                                 f'[0, {self.num_classes})')
            out[torch.arange(len(labels)), labels] = self.scale
        return {'item': out}

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'tensor':
            return self.forward_logits(inputs, data_samples)
        raise RuntimeError(f'LabelTeacher is a distillation teacher only (mode {mode!r})')
