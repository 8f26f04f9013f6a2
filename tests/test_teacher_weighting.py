"""Multimodal → RGB teacher weighting: mean (paper), per-sample softmin of each member's CE on
the label, dataset-level weights fitted on held-out data (the reference code's three schemes).
Members here return fixed logits, so every weight is computed by hand."""
import json
import math
import sys

import pytest
import torch
from conftest import REPO
from mmengine.model import BaseModel
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.models.recognizers.logit_ensemble import per_sample_weights

LN4, LN2 = math.log(4.0), math.log(2.0)
# sample 0 has label 0, sample 1 label 2; member a is confident in class 0, b is flat / in 2
TABLE = dict(a=[[LN4, 0.0, 0.0], [LN4, 0.0, 0.0]],
             b=[[0.0, 0.0, 0.0], [0.0, 0.0, LN2]])
LABELS = [0, 2]


@MODELS.register_module(force=True)
class FixedLogitsForTest(BaseModel):
    """A 'recognizer' whose logits for sample i are ``rows[i]`` (``metainfo['i']``)."""

    def __init__(self, rows):
        super().__init__()
        self.rows = torch.tensor(rows)

    def forward_logits(self, inputs, data_samples, test_mode=False):
        return {'item': self.rows[[ds.metainfo['i'] for ds in data_samples]]}

    def forward(self, *args, **kwargs):
        raise NotImplementedError


def samples(idx=(0, 1), labels=True):
    out = []
    for i in idx:
        ds = ActionDataSample(metainfo=dict(i=i))
        if labels:
            ds.gt_labels = LabelData(item=torch.tensor([LABELS[i]]))
        out.append(ds)
    return out


def ensemble(**kw):
    members = {n: dict(model=dict(type='FixedLogitsForTest', rows=rows))
               for n, rows in TABLE.items()}
    return MODELS.build(dict(type='LogitEnsemble', members=members, **kw))


def test_mean_is_the_papers_uniform_average():
    out = ensemble().forward_logits({}, samples())['item']
    torch.testing.assert_close(out, torch.tensor([[LN4 / 2, 0, 0], [LN4 / 2, 0, LN2 / 2]]))


def test_per_sample_softmin_of_each_members_ce_on_the_label():
    # sample 0 (label 0): CE_a = ln(6/4), CE_b = ln 3 → w ∝ 4/6, 1/3 → (2/3, 1/3)
    # sample 1 (label 2): CE_a = ln 6,    CE_b = ln 2 → w ∝ 1/6, 1/2 → (1/4, 3/4)
    z = torch.tensor([TABLE['a'], TABLE['b']]).transpose(0, 1)  # [B=2, M=2, C=3]
    w = per_sample_weights(z, torch.tensor(LABELS))
    torch.testing.assert_close(w, torch.tensor([[2 / 3, 1 / 3], [1 / 4, 3 / 4]]))
    # T_w = 0.5 squares the ratios: (4/9, 1/9) → (4/5, 1/5); (1/36, 1/4) → (1/10, 9/10)
    torch.testing.assert_close(per_sample_weights(z, torch.tensor(LABELS), 0.5),
                               torch.tensor([[4 / 5, 1 / 5], [1 / 10, 9 / 10]]))
    out = ensemble(weighting='per_sample').forward_logits({}, samples())['item']
    torch.testing.assert_close(out, torch.tensor([[2 / 3 * LN4, 0, 0],
                                                  [LN4 / 4, 0, 3 / 4 * LN2]]))
    hot = ensemble(weighting='per_sample', weights_temperature=0.5)
    torch.testing.assert_close(hot.forward_logits({}, samples())['item'][1],
                               torch.tensor([LN4 / 10, 0, 9 / 10 * LN2]))
    with pytest.raises(ValueError, match='gt_labels.item'):
        ensemble(weighting='per_sample').forward_logits({}, samples(labels=False))


def test_dataset_weights_fitted_on_held_out_batches_and_loaded_from_json(tmp_path):
    # mean CE_a = (ln 1.5 + ln 6) / 2 = ln 3, mean CE_b = (ln 3 + ln 2) / 2 = ln √6
    # softmin: w_a = (1/3) / (1/3 + 1/√6) = √6 / (√6 + 3) = 0.449490, w_b = 0.550510
    teacher = ensemble()
    batches = [dict(inputs={}, data_samples=samples((0, ))),
               dict(inputs={}, data_samples=samples((1, )))]
    fit = teacher.fit_dataset_weights(batches)
    assert fit['samples'] == 2 and fit['temperature'] == 1.0
    assert fit['mean_ce']['item']['a'] == pytest.approx(math.log(3))
    assert fit['mean_ce']['item']['b'] == pytest.approx(0.5 * math.log(6))
    assert fit['weights']['item']['a'] == pytest.approx(0.449490, abs=1e-6)
    assert fit['weights']['item']['b'] == pytest.approx(0.550510, abs=1e-6)
    path = tmp_path / 'w.json'
    path.write_text(json.dumps(fit))
    fitted = ensemble(weighting='dataset', weights=str(path))
    out = fitted.forward_logits({}, samples(labels=False))['item']  # fixed: no labels needed
    torch.testing.assert_close(out[1], torch.tensor([0.449490 * LN4, 0, 0.550510 * LN2]),
                               atol=1e-6, rtol=0)
    with pytest.raises(ValueError, match="'dataset' needs the fitted weights"):
        ensemble(weighting='dataset')
    with pytest.raises(ValueError, match="'per_sample' computes"):
        ensemble(weighting='per_sample', weights=dict(a=1, b=1))
    with pytest.raises(ValueError, match='weighting must be one of'):
        ensemble(weighting='softmax')


def test_fit_teacher_weights_tool_refuses_a_teacher_that_is_not_an_ensemble():
    sys.path.insert(0, str(REPO / 'tools'))
    import fit_teacher_weights
    cfg = dict(type='DistillRecognizer', teacher=dict(type='Recognizer3D'))
    with pytest.raises(ValueError, match='LogitEnsemble'):
        fit_teacher_weights.teacher_config(cfg)
    ens = dict(type='LogitEnsemble', members={})
    assert fit_teacher_weights.teacher_config(dict(type='DistillRecognizer', teacher=ens)) is ens


def test_boxes_follow_the_crop_as_the_paper_says_or_stay_full_frame_as_the_reference():
    """Paper: teacher and student see the same spatial crop, so the crop moves the boxes the
    boxes member reads (boxes_follow_crop=True); crop_boxes=False keeps the full-frame layout
    the boxes member was trained on (the reference code's choice)."""
    import numpy as np
    from mmengine.config import Config

    from mmaction.registry import TRANSFORMS
    boxes = np.zeros((2, 1, 6), np.float32)
    boxes[:, 0] = (0.1, 0.2, 0.5, 0.6, 1, 1)
    for crop in (dict(type='MultimodalCenterCrop', crop_size=(30, 20)),
                 dict(type='MultimodalShiftedCenterCrop', crop_size=(30, 20))):
        rgb = np.arange(2 * 40 * 60 * 3, dtype=np.uint8).reshape(2, 40, 60, 3)
        kept = TRANSFORMS.build(dict(crop, crop_boxes=False))(
            dict(rgb=rgb.copy(), boxes=boxes.copy(), replay_view=dict(crop_shift=[0, 0])))
        moved = TRANSFORMS.build(crop)(
            dict(rgb=rgb.copy(), boxes=boxes.copy(), replay_view=dict(crop_shift=[0, 0])))
        assert kept['rgb'].shape == moved['rgb'].shape == (2, 20, 30, 3)
        np.testing.assert_array_equal(kept['boxes'], boxes)
        # cropped: x (6..30 px) → (6 − 15) / 30 clipped to 0, 15 / 30; y (8..24) → 0, 14 / 20
        np.testing.assert_allclose(moved['boxes'][0, 0, :4], [0, 0, 0.5, 0.7], atol=1e-6)
    cfgs = REPO / 'configs/mm2rgb'
    student = Config.fromfile(str(cfgs / 'student_rgb_flow_boxes_sthv2.py'))
    crop = next(t for t in student.train_dataloader.dataset.pipeline if 'Crop' in t['type'])
    assert crop['crop_boxes'] is True and student.boxes_follow_crop is True
    teacher = Config.fromfile(str(cfgs / 'teacher_rgb_boxes_sthv2.py'))
    crop = next(t for t in teacher.val_dataloader.dataset.pipeline if 'Crop' in t['type'])
    assert crop['crop_boxes'] is True
    omni = Config.fromfile(str(cfgs / 'omnivore_sthv2.py'))  # renders boxes into the crop
    crop = next(t for t in omni.train_dataloader.dataset.pipeline if 'Crop' in t['type'])
    assert crop['crop_boxes'] is True
