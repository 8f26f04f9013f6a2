"""The calibration teacher of the distillation suites (benchmarks/reproduce/controls.py)."""
import sys
from pathlib import Path

import pytest
import torch
from mmengine.structures import LabelData

from mmaction.structures import ActionDataSample

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'benchmarks' / 'reproduce'))
from controls import LabelTeacher  # noqa: E402


def _samples(labels):
    out = []
    for y in labels:
        ds = ActionDataSample()
        ds.gt_labels = LabelData(item=torch.tensor([y]))   # the toy SSv2 samples' label
        out.append(ds)
    return out


def test_oracle_logits_are_the_scaled_label_blind_are_zeros():
    labels = [2, 0, 5, 2]
    oracle = LabelTeacher(6, 'oracle', scale=7.0)
    out = oracle.forward_logits(None, _samples(labels))['item']
    expected = torch.zeros(4, 6)
    expected[0, 2] = expected[1, 0] = expected[2, 5] = expected[3, 2] = 7.0
    assert torch.equal(out, expected)
    assert torch.equal(LabelTeacher(6, 'blind').forward_logits(None, _samples(labels))['item'],
                       torch.zeros(4, 6))


def test_label_teacher_errors():
    with pytest.raises(ValueError, match='mode'):
        LabelTeacher(6, 'cheat')
    with pytest.raises(ValueError, match='num_classes'):
        LabelTeacher(1)
    with pytest.raises(ValueError, match=r'outside \[0, 6\)'):
        LabelTeacher(6).forward_logits(None, _samples([6]))
    with pytest.raises(RuntimeError, match='teacher only'):
        LabelTeacher(6)(None, _samples([1]), mode='loss')
