"""MML "I3D on Charades": multi-label lists, the Charades CSV converter, configs, one step."""
import importlib.util
import math

import numpy as np
import pytest
import torch
from conftest import REPO
from e2e_utils import SHORT, call_tool, load_tool, train_in_process
from mmengine.config import Config
from mmengine.structures import LabelData

from mmaction.registry import DATASETS, METRICS, MODELS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.datasets.transforms.formatting import PackMultimodalInputs

_spec = importlib.util.spec_from_file_location('charades_to_list',
                                               REPO / 'tools/data/charades_to_list.py')
_tool = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_tool)
convert, parse_actions = _tool.convert, _tool.parse_actions
CHARADES = REPO / 'configs' / 'mml' / 'charades'
TOY = REPO / 'configs' / 'mml' / 'toy'


def _labels(ds):
    return [ds.get_data_info(i)['label'] for i in range(len(ds))]


def _dataset(tmp_path, text, **kwargs):
    ann = tmp_path / 'list.txt'
    ann.write_text(text)
    kwargs.setdefault('multi_class', True)
    kwargs.setdefault('num_classes', 7)
    return DATASETS.build(dict(type='MultimodalFrameListDataset', ann_file=str(ann),
                               data_prefix=dict(rgb='rgb'), modalities=('rgb', ), **kwargs))


# ---- multi-label samples ---------------------------------------------------------------------
def test_multi_label_line_gives_index_list_packed_and_multi_hot(tmp_path):
    ds = _dataset(tmp_path, 'v1 10 5 2\nv2 8 3 3\nv3 9\n')
    assert _labels(ds) == [[2, 5], [3], []]
    info = ds.get_data_info(0)  # not MMAction2's float multi-hot: the index list stays
    assert info['label'] == [2, 5] and info['total_frames'] == 10
    assert info['frame_dir'] == 'rgb/v1' and info['start_index'] == 1
    packed = PackMultimodalInputs(modalities=('rgb', )).transform(
        dict(rgb=np.zeros((1, 2, 2, 3), np.uint8), label=info['label'], clip_len=1,
             num_clips=1))
    assert packed['data_samples'].gt_labels.item.tolist() == [2, 5]
    model = MODELS.build(Config.fromfile(str(TOY / 'charades_mml.py')).model)
    samples = [packed['data_samples'], ActionDataSample()]
    samples[1].gt_labels = LabelData(item=torch.tensor([], dtype=torch.long))
    hot = model.labels(samples, 7)
    assert hot.tolist() == [[0, 0, 1, 0, 0, 1, 0], [0] * 7]


def test_single_label_lists_unchanged(tmp_path):
    ds = _dataset(tmp_path, 'v1 10 3\n', multi_class=False, num_classes=None)
    assert _labels(ds) == [3]


@pytest.mark.parametrize('text,multi,match', [
    ('v1 10 2\nv2 10 7\n', True,
     r"list\.txt: line 2 \(name 'v2'\): labels \[7\] is not zero or more labels, each an "
     r'integer in \[0, 7\)'),
    ('v1 10 2\nv2 x 1\n', True,
     r"list\.txt: line 2 \(name 'v2'\): total_frames 'x' is not a frame count >= 1"),
    ('v1 10 2 -1\n', True, r"list\.txt: line 1 \(name 'v1'\): labels \[2, '-1'\] is not"),
    ('v1 10 2 5\n', False,
     r"list\.txt: line 1 \(name 'v1'\): labels \[2, 5\] is not exactly one label, each an "
     r'integer >= 0'),
    ('v1 0 2\n', True, r"list\.txt: line 1 \(name 'v1'\): total_frames 0 is not a frame count"),
])
def test_malformed_lines_name_file_and_line(tmp_path, text, multi, match):
    with pytest.raises(ValueError, match=match):
        _dataset(tmp_path, text, multi_class=multi, num_classes=7 if multi else None)


def test_multi_class_needs_num_classes(tmp_path):
    with pytest.raises(ValueError, match='num_classes'):
        _dataset(tmp_path, 'v1 10 2\n', num_classes=None)


def test_loss_and_metric_accept_the_multi_hot():
    labels = torch.tensor([[0, 0, 1, 0, 0, 1, 0]], dtype=torch.float)
    loss = MODELS.build(dict(type='MutualLearningLoss'))
    out = loss(torch.zeros(2, 1, 7), labels)  # sigmoid(0) = 1/2 → BCE = log 2; equal peers
    assert torch.allclose(out['loss_cls'], torch.full((2, ), math.log(2)))
    assert torch.allclose(out['loss_kd'], torch.zeros(2))
    # KL / (B·C): peers p = softmax([1, 0, ...]) vs uniform; B = 1, C = 7
    z = torch.zeros(2, 1, 7)
    z[1, 0, 0] = 1.0
    p = torch.softmax(z[1, 0], 0)
    kl = float((p * (p.log() - math.log(1 / 7))).sum())
    assert out['loss_kd'].shape == (2, )
    assert loss(z, labels)['loss_kd'][0].item() == pytest.approx(kl / 7, rel=1e-5)

    metric = METRICS.build(dict(type='MultiModalityMetric', multi_label=True))
    # class 0: sample 0 (+) ranked first → AP 1; class 1: sample 1 (+) first → AP 1;
    # class 2: sample 0 (+) ranked below sample 1 (−) → AP 1/2. mAP = 2.5 / 3.
    rgb = [torch.tensor([0.9, 0.1, 0.3]), torch.tensor([0.2, 0.7, 0.6])]
    labs = [torch.tensor([0, 2]), torch.tensor([1])]
    metric.process(None, [dict(pred_logits=dict(rgb=r, flow=r), gt_labels=dict(item=y),
                               pred_scores=dict(rgb=r.sigmoid(), flow=r.sigmoid()))
                          for r, y in zip(rgb, labs)])
    res = metric.compute_metrics(metric.results)
    assert list(res) == ['fused_mAP', 'rgb_mAP', 'flow_mAP']
    for v in res.values():
        assert v == pytest.approx(2.5 / 3)


# ---- tools/data/charades_to_list.py ----------------------------------------------------------
CSV = ('id,subject,scene,quality,relevance,verified,script,objects,descriptions,actions,length\n'
       'AAA01,s1,Kitchen,6,7,Yes,x,a;b,d,c092 11.90 21.20;c147 0.00 12.60;c092 1.0 2.0,30.2\n'
       'BBB02,s2,Bedroom,5,7,Yes,x,a,d,,12.0\n'
       'CCC03,s3,Hall,6,6,Yes,x,a,d,c000 0.00 3.10,8.5\n')


def _frames(root, counts):
    for vid, n in counts.items():
        (root / vid).mkdir(parents=True)
        for i in range(1, n + 1):
            (root / vid / f'img_{i:05d}.jpg').write_bytes(b'')


def test_charades_csv_to_list(tmp_path, capsys):
    (tmp_path / 'train.csv').write_text(CSV)
    _frames(tmp_path / 'frames', dict(AAA01=5, BBB02=3, CCC03=2))
    out = tmp_path / 'list.txt'
    assert convert(str(tmp_path / 'train.csv'), str(tmp_path / 'frames'), str(out)) == dict(
        written=2, skipped_unlabeled=1)
    assert out.read_text() == 'AAA01 5 92 147\nCCC03 2 0\n'
    assert 'skipped 1 without actions' in capsys.readouterr().out
    convert(str(tmp_path / 'train.csv'), str(tmp_path / 'frames'), str(out),
            keep_unlabeled=True)
    assert out.read_text() == 'AAA01 5 92 147\nBBB02 3\nCCC03 2 0\n'
    ds = _dataset(tmp_path, out.read_text(), num_classes=157)  # the dataset reads it back
    assert _labels(ds) == [[92, 147], [], [0]]


def test_charades_bad_action_and_missing_frames(tmp_path):
    with pytest.raises(ValueError, match=r'x\.csv:3: bad action \'c157 0 1\''):
        parse_actions('c001 0 1;c157 0 1', 'x.csv:3')
    (tmp_path / 'train.csv').write_text(CSV)
    _frames(tmp_path / 'frames', dict(AAA01=5))
    with pytest.raises(ValueError, match=r"1 videos .* no frames .*\['CCC03'\]"):
        convert(str(tmp_path / 'train.csv'), str(tmp_path / 'frames'), str(tmp_path / 'o'))


# ---- configs ---------------------------------------------------------------------------------
def test_paper_configs_write_the_charades_settings():
    for name in ('rgb', 'ml', 'mml_rgb_flow'):
        cfg = Config.fromfile(str(CHARADES / f'{name}_charades.py'))
        assert cfg.model.multi_label is True
        assert cfg.model.strategy.type == 'MutualLearningLoss'
        assert cfg.model.strategy.loss_weight == (0.0 if name == 'rgb' else 1.0)
        assert cfg.val_evaluator == dict(type='MultiModalityMetric', fusion='prob',
                                         multi_label=True)
        assert cfg.default_hooks.checkpoint.save_best == 'rgb_mAP'
        assert cfg.default_hooks.checkpoint.rule == 'greater'
        ds = cfg.train_dataloader.dataset
        assert (ds.type, ds.multi_class, ds.num_classes) == (
            'MultimodalFrameListDataset', True, 157)
        for m in cfg.model.members.values():
            b, h = m.backbone, m.cls_head
            assert (b.type, b.depth, b.conv1_kernel, b.conv1_stride_t) == (
                'ResNet3d', 50, (5, 7, 7), 2)
            assert b.inflate == ((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0))
            assert (h.type, h.num_classes, h.loss_cls.type) == \
                ('I3DHead', 157, 'BCELossWithLogits')
    mml = Config.fromfile(str(CHARADES / 'mml_rgb_flow_charades.py'))
    assert {n: m.backbone.in_channels for n, m in mml.model.members.items()} == dict(
        rgb=3, flow=2)
    assert mml.model.member_init.flow == dict(checkpoint='work_dirs/ml_charades',
                                              prefix='members.rgb.')
    ml = Config.fromfile(str(CHARADES / 'ml_charades.py'))
    assert ml.model.member_init.rgb_b.prefix == 'members.rgb_b.'


def test_paper_mml_model_builds():
    model = MODELS.build(Config.fromfile(str(CHARADES / 'mml_rgb_flow_charades.py')).model)
    assert model.num_classes == 157 and model.names == ['rgb', 'flow']
    assert model.members.flow.backbone.conv1.conv.weight.shape == (64, 2, 5, 7, 7)


def test_toy_multi_label_mml_step_is_finite_and_learns():
    cfg = Config.fromfile(str(TOY / 'charades_mml.py'))
    cfg.model.member_init = None
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.train()
    b = 2
    inputs = dict(rgb=torch.rand(b, 1, 3, 8, 32, 32) * 255,
                  flow=torch.rand(b, 1, 2, 8, 32, 32) * 255)
    samples = []
    for labs in ([2, 5], [0]):
        s = ActionDataSample()
        s.gt_labels = LabelData(item=torch.tensor(labs))
        samples.append(s)
    losses = model(inputs, samples, mode='loss')
    for key in ('rgb.loss_cls', 'rgb.loss_kd', 'flow.loss_cls', 'flow.loss_kd'):
        assert torch.isfinite(losses[key]), key
    assert losses['rgb.loss_kd'] > 0  # two different random networks disagree
    sum(losses.values()).backward()
    assert model.members.flow.backbone.conv1.conv.weight.grad.abs().sum() > 0


def test_toy_charades_trains_end_to_end(toy_workspace_copy):
    """Toy list → stage 1 (2 RGB, BCE) → reduced MML (Fig. 2: RGB + flow from stage 1).
    (The tools run in-process; the list is written into a private copy of the toy data.)"""
    tmp_path = toy_workspace_copy
    call_tool(load_tool('tools/data/charades_to_list.py').main,
              ['--toy-from-sthv2', 'data/toy/sthv2'], cwd=tmp_path)
    lines = (tmp_path / 'data/toy/sthv2/annotations/charades_train.txt').read_text().split('\n')
    assert any(len(line.split()) == 4 for line in lines)  # some videos have two labels
    train_in_process([TOY / 'charades_rgb.py', '--cfg-options', 'train_cfg.max_epochs=1',
                      *SHORT], cwd=tmp_path)
    proc = train_in_process([TOY / 'charades_mml.py', '--cfg-options',
                             'train_cfg.max_epochs=1',
                             'model.member_init.rgb.checkpoint=work_dirs/charades_rgb',
                             'model.member_init.flow.checkpoint=work_dirs/charades_rgb', *SHORT],
                            cwd=tmp_path)
    log = proc.stdout + proc.stderr
    assert "inflated ['backbone.conv1.conv.weight']" in log
    assert 'flow.loss_kd' in log and 'fused_mAP' in log
    assert list((tmp_path / 'work_dirs/charades_mml').glob('best_rgb_mAP_epoch_1.pth'))
