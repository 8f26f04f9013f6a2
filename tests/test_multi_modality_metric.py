"""Σ / Φ ensemble metrics on hand-built predictions, and tools/analysis/fuse_scores.py on the
two real MMAction2 score files (demo/fuse of the 0.x branch)."""
import pickle
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.evaluator import Evaluator

from mmaction.evaluation.functional import top_k_accuracy

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'tools' / 'analysis'))
import fuse_scores  # noqa: E402

# 4 videos, 3 classes. rgb right on 0, 1; flow right on 1, 2; Σ of logits right on 1, 2
# (video 0: logits sum [4, 5, 4.9] → class 1), Σ of probabilities also right on 0
# (softmax sums [0.968, 0.541, 0.491]); Φ right on 0, 1, 2.
RGB = [[4., 0., 0.], [0., 1., 0.], [0., 0., 1.], [1., 0., 0.]]
FLOW = [[0., 5., 4.9], [0., 2., 0.], [2., 0., 0.], [0., 0., 2.]]
LABELS = [0, 1, 0, 1]


def samples(names=('rgb', 'flow')):
    streams = dict(rgb=RGB, flow=FLOW)
    out = []
    for i, y in enumerate(LABELS):
        logits = {n: torch.tensor(streams[n][i]) for n in names}
        out.append(dict(pred_logits=logits,
                        pred_scores={n: v.softmax(-1) for n, v in logits.items()},
                        gt_labels=dict(item=torch.tensor([y]))))
    return out


def evaluate(**kw):
    ev = Evaluator(dict(type='MultiModalityMetric', **kw))
    ev.process(samples(), None)
    return ev.evaluate(4)


def test_sigma_phi_each_modality_on_hand_built_predictions():
    m = evaluate(topk=(1, ))
    assert list(m)[0] == 'fused_top1'  # save_best='auto' selects on Σ
    assert m['rgb_top1'] == 0.5 and m['flow_top1'] == 0.5
    assert m['fused_top1'] == 0.5          # logits summed
    assert m['oracle_top1'] == 0.75
    assert m['oracle_mean_class_accuracy'] == 0.75  # class 0: 2/2, class 1: 1/2
    assert evaluate(topk=(1, ), fusion='prob')['fused_top1'] == 0.75


def test_per_class_and_subset():
    m = evaluate(topk=(1, ), per_class=True)
    assert m['oracle_class0_top1'] == 1.0 and m['oracle_class1_top1'] == 0.5
    assert m['rgb_class0_top1'] == 0.5 and m['flow_class1_top1'] == 0.5
    assert m['fused_class0_top1'] == 0.5 and m['fused_class1_top1'] == 0.5
    sub = evaluate(topk=(1, ), modalities=['flow'])
    assert sub['fused_top1'] == sub['flow_top1'] == sub['oracle_top1'] == 0.5
    assert 'rgb_top1' not in sub
    with pytest.raises(ValueError, match="no predictions for \\['depth'\\]"):
        evaluate(modalities=['depth'])


def test_multi_label_map():
    ev = Evaluator(dict(type='MultiModalityMetric', multi_label=True))
    data = []
    for i in range(4):
        ok = torch.tensor([5., -5., -5.]) if i % 2 else torch.tensor([-5., 5., -5.])
        data.append(dict(pred_logits=dict(rgb=ok, flow=-ok),
                         pred_scores=dict(rgb=ok.sigmoid(), flow=(-ok).sigmoid()),
                         gt_labels=dict(item=torch.tensor([0 if i % 2 else 1]))))
    ev.process(data, None)
    m = ev.evaluate(4)
    assert m['rgb_mAP'] == pytest.approx(1.0) and m['flow_mAP'] < 1.0
    assert set(m) == {'fused_mAP', 'rgb_mAP', 'flow_mAP'}


FUSE = Path('mmaction2') / 'branch_0.x' / 'demo' / 'fuse'


def test_fuse_scores_on_real_mmaction2_score_files(shared_data, capsys):
    d = shared_data / FUSE
    rgb = np.stack(pickle.load(open(d / 'rgb.pkl', 'rb')))
    flow = np.stack(pickle.load(open(d / 'flow.pkl', 'rb')))
    labels = np.array([int(line.split()[2]) for line in open(d / 'data_list.txt')])
    assert rgb.shape == flow.shape == (100, 400)
    m = fuse_scores.main([str(d / 'rgb.pkl'), str(d / 'flow.pkl'), '--labels',
                          str(d / 'data_list.txt')])
    # each stream as MMAction2's tools/test.py computes top-k (mmaction's top_k_accuracy)
    for name, s in (('rgb', rgb), ('flow', flow), ('fused', rgb + flow)):
        top1, top5 = top_k_accuracy(s, labels, (1, 5))
        assert m[f'{name}_top1'] == pytest.approx(top1)
        assert m[f'{name}_top5'] == pytest.approx(top5)
    assert (m['rgb_top1'], m['flow_top1'], m['fused_top1'], m['oracle_top1']) == \
        pytest.approx((0.71, 0.68, 0.79, 0.78))
    oracle = np.mean([(r.argmax() == y) or (f.argmax() == y)
                      for r, f, y in zip(rgb, flow, labels)])
    assert m['oracle_top1'] == pytest.approx(oracle)
    out = capsys.readouterr().out
    assert 'Σ (sum)' in out and '79.00' in out and 'Φ (oracle)' in out


def test_fuse_scores_reads_a_test_dump_with_every_modality(shared_data, tmp_path):
    d = shared_data / FUSE
    rgb = pickle.load(open(d / 'rgb.pkl', 'rb'))
    flow = pickle.load(open(d / 'flow.pkl', 'rb'))
    labels = [int(line.split()[2]) for line in open(d / 'data_list.txt')]
    dump = [dict(pred_scores=dict(rgb=torch.tensor(r), flow=torch.tensor(f)),
                 gt_labels=dict(item=torch.tensor([y]))) for r, f, y in zip(rgb, flow, labels)]
    with open(tmp_path / 'dump.pkl', 'wb') as f:
        pickle.dump(dump, f)
    m, names, _ = fuse_scores.fuse([str(tmp_path / 'dump.pkl')])  # labels from the dump
    assert names == ['rgb', 'flow']
    assert (m['rgb_top1'], m['fused_top1'], m['oracle_top1']) == pytest.approx((0.71, 0.79, 0.78))


def test_fuse_scores_errors(tmp_path):
    bad = tmp_path / 'labels.txt'
    bad.write_text('a 3 x\n')
    with pytest.raises(ValueError, match='labels.txt:1'):
        fuse_scores.load_labels(str(bad))
    p = tmp_path / 's.pkl'
    pickle.dump([np.zeros(3)] * 2, open(p, 'wb'))
    bad.write_text('a 3 0\nb 3 1\nc 3 1\n')
    with pytest.raises(ValueError, match="stream 's' has 2 videos, the labels 3"):
        fuse_scores.fuse([str(p)], str(bad))
