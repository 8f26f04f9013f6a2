"""BoxRecognizer: STLT + MultiHeadMLP as a standalone boxes model and LogitEnsemble member."""
import pytest
import torch
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

T, K = 4, 2


def box_cfg(num_classes=2):
    return dict(
        type='BoxRecognizer',
        backbone=dict(type='STLT', embed_dims=16, num_spatial_layers=1, num_temporal_layers=1,
                      num_heads=2, max_boxes=K, max_frames=T, dropout=0.0),
        cls_head=dict(type='MultiHeadMLP', in_channels=16, num_classes=num_classes),
        data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))


def trajectories(labels, num_clips=1, seed=0):
    """Per-sample ``[N, T, K, 6]``: class 0 moves the object left -> right in the upper half,
    class 1 right -> left in the lower half; the hand (slot 1) stays put."""
    g = torch.Generator().manual_seed(seed)
    out = []
    for y in labels:
        b = torch.zeros(num_clips, T, K, 6)
        xs = torch.linspace(0.1, 0.7, T)
        if y == 1:
            xs = xs.flip(0)
        xs = xs + 0.05 * torch.rand(num_clips, 1, generator=g)
        b[..., 0, 0], b[..., 0, 2] = xs, xs + 0.2
        b[..., 0, 1], b[..., 0, 3] = (0.1, 0.4) if y == 0 else (0.5, 0.8)
        b[..., 0, 4], b[..., 0, 5] = 1, 1
        b[..., 1, :4] = torch.tensor([0.4, 0.7, 0.6, 0.9])
        b[..., 1, 4], b[..., 1, 5] = 2, 1
        out.append(b)
    return out


def samples(labels):
    out = []
    for y in labels:
        ds = ActionDataSample()
        ds.gt_labels = LabelData(item=torch.tensor([y]))
        out.append(ds)
    return out


def test_trains_on_separable_trajectories():
    torch.manual_seed(0)
    model = MODELS.build(box_cfg())  # PyTorch default init (trunc-normal 0.02 learns slower)
    labels = [0, 1] * 4
    data = model.data_preprocessor(dict(inputs=trajectories(labels), data_samples=samples(labels)),
                                   True)
    assert tuple(data['inputs'].shape) == (8, 1, T, K, 6)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = []
    for _ in range(20):
        losses = model(**data, mode='loss')
        assert set(losses) == {'loss_cls', 'top1_acc_item'}
        opt.zero_grad()
        losses['loss_cls'].backward()
        if not history:
            assert model.backbone.box_embed.weight.grad.abs().sum() > 0
            assert model.cls_head.heads['item'].weight.grad.abs().sum() > 0
        opt.step()
        history.append(losses['loss_cls'].item())
    assert history[-1] < 0.5 * history[0], history
    assert float(losses['top1_acc_item']) == 1.0


def test_predict_scores_and_clip_averaging():
    torch.manual_seed(0)
    model = MODELS.build(box_cfg(num_classes=3)).eval()
    labels = [0, 1, 2]
    data = model.data_preprocessor(
        dict(inputs=trajectories([0, 1, 0], num_clips=2), data_samples=samples(labels)))
    x = data['inputs']
    assert tuple(x.shape) == (3, 2, T, K, 6)
    with torch.no_grad():
        preds = model(**data, mode='predict')
        logits = model(x, mode='tensor')
        per_clip = [model.forward_logits(x[:, i])['item'] for i in range(2)]
        as_dict = model.forward_logits(dict(boxes=x))
        as_list = model.forward_logits(list(x))
    for ds in preds:
        s = ds.pred_scores.item
        assert s.shape == (3, ) and torch.allclose(s.sum(), torch.tensor(1.0))
        assert ds.pred_labels.item.shape == (1, )
    assert logits['item'].shape == (3, 3)
    torch.testing.assert_close(logits['item'], (per_clip[0] + per_clip[1]) / 2)
    torch.testing.assert_close(as_dict['item'], logits['item'])
    torch.testing.assert_close(as_list['item'], logits['item'])
    with pytest.raises(KeyError):
        model.forward_logits(dict(rgb=x))
    with pytest.raises(ValueError):
        model.forward_logits(x[..., :4])


def test_logit_ensemble_member(tmp_path):
    torch.manual_seed(0)
    model = MODELS.build(box_cfg()).eval()
    ckpt = tmp_path / 'boxes.pth'
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    ens = MODELS.build(dict(type='LogitEnsemble', members=dict(
        boxes=dict(model=box_cfg(), checkpoint=str(ckpt), modality='boxes'))))
    assert ens.head_classes == {'item': 2}
    labels = [0, 1]
    boxes = trajectories(labels, num_clips=2)
    batch = dict(inputs=dict(boxes=boxes, rgb=[torch.zeros(1)] * 2),
                 data_samples=samples(labels))
    data = ens.data_preprocessor(batch)
    with torch.no_grad():
        got = ens.forward_logits(data['inputs'], data['data_samples'], test_mode=True)
        want = model.forward_logits(torch.stack(boxes))
        member = ens.members['boxes'].forward_logits(torch.stack(boxes))
    torch.testing.assert_close(got['item'], want['item'])
    torch.testing.assert_close(got['item'], member['item'])
    preds = ens.predict(data['inputs'], data['data_samples'])
    assert torch.allclose(preds[0].pred_scores.item.sum(), torch.tensor(1.0))
