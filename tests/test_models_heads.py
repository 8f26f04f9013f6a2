# Copyright (c) mmdistill contributors.
import pytest
import torch
import torch.nn.functional as F
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.models.heads import MultiHeadMLP


def _samples(labels):
    out = []
    for lab in labels:
        ds = ActionDataSample()
        ds.gt_labels = LabelData(
            **{k: torch.tensor([v], dtype=torch.long)
               for k, v in lab.items()})
        out.append(ds)
    return out


def test_single_int_named_item():
    h = MultiHeadMLP(8, 5)
    assert h.output_names == ['item']
    out = h(torch.randn(2, 4, 8))
    assert list(out) == ['item'] and out['item'].shape == (2, 5)


def test_mean_over_tokens_equals_mean_of_per_token_logits():
    torch.manual_seed(0)
    h = MultiHeadMLP(8, dict(verb=3, noun=4), hidden_dims=6).eval()
    x = torch.randn(2, 4, 8)
    per_tok = h.forward_tokens(x)
    assert per_tok['verb'].shape == (2, 4, 3)
    out = h(x)
    for name in ('verb', 'noun'):
        manual = torch.stack(
            [h.heads[name](h.shared(x[:, t])) for t in range(4)], 1).mean(1)
        torch.testing.assert_close(out[name], manual)
        torch.testing.assert_close(out[name], per_tok[name].mean(1))


def test_loss_by_feat_hand_computed_with_loss_weight():
    h = MODELS.build(
        dict(
            type='MultiHeadMLP',
            in_channels=8,
            num_classes=dict(verb=3, noun=4),
            loss_cls=dict(type='CrossEntropyLoss', loss_weight=0.7)))
    scores = dict(
        verb=torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]]),
        noun=torch.tensor([[0.0, 0.0, 5.0, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    samples = _samples([dict(verb=0, noun=1), dict(verb=2, noun=0)])
    losses = h.loss_by_feat(scores, samples)
    ce_v = -(F.log_softmax(scores['verb'], 1)[[0, 1], [0, 2]]).mean()
    ce_n = -(F.log_softmax(scores['noun'], 1)[[0, 1], [1, 0]]).mean()
    torch.testing.assert_close(losses['loss_cls'], 0.7 * (ce_v + ce_n) / 2)
    assert losses['top1_acc_verb'] == 1.0
    assert losses['top1_acc_noun'] == 0.5


def test_loss_gradient_and_missing_field():
    h = MultiHeadMLP(8, 3)
    x = torch.randn(2, 4, 8)
    losses = h.loss(x, _samples([dict(item=0), dict(item=2)]))
    losses['loss_cls'].backward()
    assert h.shared[0].weight.grad is not None
    with pytest.raises(ValueError, match='item'):
        h.loss(x, _samples([dict(verb=0), dict(verb=2)]))


def test_predict_sets_labeldata():
    h = MultiHeadMLP(8, dict(verb=3, noun=4))
    scores = dict(
        verb=torch.tensor([[2.0, 0.0, 0.0], [0.0, 1.0, 3.0]]),
        noun=torch.tensor([[0.0, 0.0, 5.0, 0.0], [1.0, 0.0, 0.0, 0.0]]))
    samples = h.predict_by_feat(scores, _samples([dict(verb=0, noun=1)] * 2))
    ds = samples[1]
    assert isinstance(ds.pred_scores, LabelData)
    assert isinstance(ds.pred_labels, LabelData)
    torch.testing.assert_close(ds.pred_scores.verb,
                               F.softmax(scores['verb'][1], 0))
    assert ds.pred_labels.verb.dtype == torch.long
    assert ds.pred_labels.verb.tolist() == [2]
    assert samples[0].pred_labels.noun.tolist() == [2]


def test_predict_averages_clips():
    h = MultiHeadMLP(8, 3)
    s = torch.tensor([[5.0, 0.0, 0.0], [0.0, 0.0, 1.0]])  # 2 clips, 1 sample
    ds = h.predict_by_feat(dict(item=s), _samples([dict(item=0)]))[0]
    torch.testing.assert_close(ds.pred_scores.item,
                               F.softmax(s, 1).mean(0))
    assert ds.pred_labels.item.tolist() == [0]


def test_multi_head_mlp_averages_only_valid_tokens():
    """KARMMA supp. B 'ignore': the prediction is the mean over the present modalities' tokens
    and CLS only."""
    from mmaction.registry import MODELS
    head = MODELS.build(dict(type='MultiHeadMLP', in_channels=8,
                             num_classes=dict(verb=3, noun=4))).eval()
    x = torch.randn(2, 4, 8)  # M = 3 modality tokens + CLS
    valid = torch.tensor([[True, False, True, True], [False, False, False, True]])
    per_token = head.forward_tokens(x)
    out = head(x, valid=valid)
    for k, v in per_token.items():
        torch.testing.assert_close(out[k][0], (v[0, 0] + v[0, 2] + v[0, 3]) / 3)
        torch.testing.assert_close(out[k][1], v[1, 3])  # CLS alone
        torch.testing.assert_close(head(x)[k], v.mean(1))
    with pytest.raises(ValueError, match='valid'):
        head(x, valid=valid[:, :3])
