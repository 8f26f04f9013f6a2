import numpy as np
import pytest
import torch
from mmengine.structures import LabelData

from mmaction.structures import ActionDataSample
from mmdistill_plugin.evaluation import MultiHeadAccMetric, action_topk_accuracy


def sample(scores: dict, labels: dict):
    ds = ActionDataSample()
    ds.pred_scores = LabelData(**{k: torch.tensor(v) for k, v in scores.items()})
    ds.gt_labels = LabelData(**{k: torch.tensor([v]) for k, v in labels.items()})
    return ds.to_dict()


def test_action_accuracy_needs_both_heads():
    metric = MultiHeadAccMetric(topk=(1, ))
    metric.process(None, [
        sample(dict(verb=[0.9, 0.1], noun=[0.2, 0.8]), dict(verb=0, noun=1)),  # both right
        sample(dict(verb=[0.9, 0.1], noun=[0.7, 0.3]), dict(verb=0, noun=1)),  # noun wrong
        sample(dict(verb=[0.4, 0.6], noun=[0.7, 0.3]), dict(verb=0, noun=0)),  # verb wrong
    ])
    out = metric.compute_metrics(metric.results)
    assert out['verb_top1'] == pytest.approx(2 / 3)
    assert out['noun_top1'] == pytest.approx(2 / 3)
    assert out['action_top1'] == pytest.approx(1 / 3)


def test_action_top_k_uses_joint_scores():
    verb = np.array([[0.5, 0.3, 0.2]])
    noun = np.array([[0.6, 0.4]])
    # joint: (0,0)=.30 (0,1)=.20 (1,0)=.18 (1,1)=.12 (2,0)=.12 (2,1)=.08
    assert action_topk_accuracy([verb, noun], [np.array([1]), np.array([0])], (1, 2, 3)) \
        == [0.0, 0.0, 1.0]


def test_single_head_reports_top1_and_mean_class_accuracy():
    metric = MultiHeadAccMetric(topk=(1, 2))
    metric.process(None, [
        sample(dict(item=[0.1, 0.7, 0.2]), dict(item=1)),
        sample(dict(item=[0.5, 0.1, 0.4]), dict(item=2)),
    ])
    out = metric.compute_metrics(metric.results)
    assert out['top1'] == pytest.approx(0.5)
    assert out['top2'] == pytest.approx(1.0)
    assert out['mean_class_accuracy'] == pytest.approx(0.5)
    assert 'action_top1' not in out


def test_action_top_k_is_a_product_not_a_sum_of_head_scores():
    verb = np.array([[0.6, 0.4]])
    noun = np.array([[0.7, 0.2, 0.1]])
    # product: (0,0)=.42 (1,0)=.28 (0,1)=.12 (1,1)=.08 (0,2)=.06 (1,2)=.04
    # sum:     (0,0)=1.3 (1,0)=1.1 (0,1)=0.8 (0,2)=0.7 (1,1)=0.6 (1,2)=0.5
    # (1,1) is 4th by product, 5th by sum; (0,2) is 5th by product, 4th by sum.
    topk = (1, 3, 4, 5)
    assert action_topk_accuracy([verb, noun], [np.array([1]), np.array([1])], topk) \
        == [0.0, 0.0, 1.0, 1.0]
    assert action_topk_accuracy([verb, noun], [np.array([0]), np.array([2])], topk) \
        == [0.0, 0.0, 0.0, 1.0]
    metric = MultiHeadAccMetric(topk=topk)
    metric.process(None, [sample(dict(verb=verb[0], noun=noun[0]), dict(verb=1, noun=1))])
    out = metric.compute_metrics(metric.results)
    assert [out[f'action_top{k}'] for k in topk] == [0.0, 0.0, 1.0, 1.0]
