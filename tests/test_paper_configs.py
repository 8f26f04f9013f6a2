"""Every config of configs/ as its users run it: the best checkpoint is chosen on the metric the
paper reports (a key the config's own evaluator really produces, never mmengine's 'auto' = the
first key, e.g. verb_top1 on EPIC)."""
import fnmatch
import glob
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.evaluator import Evaluator
from mmengine.structures import LabelData

from mmaction.structures import ActionDataSample
from e2e_utils import REPO

ALL_CONFIGS = sorted(p for p in glob.glob(str(REPO / 'configs/**/*.py'), recursive=True)
                     if '/_base_/' not in p)
# the metric each paper ranks its models by
PAPER_METRIC = {'karmma/*epic.py': ('action_top1', 'greater'),
                'karmma/*ssv2.py': ('top1', 'greater'),
                'mm2rgb/*': ('top1', 'greater'), 'd3d/*probe*': ('EPE', 'less'),
                'd3d/*': ('top1', 'greater')}


def rel(path):
    return osp.relpath(path, REPO / 'configs')


def predicted_heads(model):
    """Head names the config's model predicts (``pred_scores.<head>``), or None for the flow
    probe (it predicts an end-point error)."""
    if model['type'] == 'FlowProbeRecognizer':
        return None
    if model['type'] == 'DistillRecognizer':  # evaluated on the student's predictions
        model = model['student']
    num_classes = model.get('cls_head', {}).get('num_classes')
    return tuple(num_classes) if isinstance(num_classes, dict) else ('item', )


def fake_predictions(heads, n=4):
    samples = []
    for i in range(n):
        ds = ActionDataSample()
        if heads is None:
            ds.set_field(torch.tensor(0.5 * i), 'pred_epe')
        else:
            ds.pred_scores = LabelData(**{h: torch.softmax(torch.randn(5), 0) for h in heads})
            ds.gt_labels = LabelData(**{h: torch.tensor([i % 5]) for h in heads})
        samples.append(ds.to_dict())
    return samples


@pytest.mark.parametrize('path', ALL_CONFIGS, ids=rel)
def test_best_checkpoint_is_the_papers_metric_and_the_evaluator_reports_it(path):
    cfg = Config.fromfile(path)
    hook = cfg.default_hooks.checkpoint
    assert hook.get('save_best') not in (None, 'auto'), f'{rel(path)}: save_best not explicit'
    assert hook.get('rule') in ('greater', 'less'), f'{rel(path)}: no rule'
    expected = next(v for k, v in PAPER_METRIC.items() if fnmatch.fnmatch(rel(path), k))
    assert (hook.save_best, hook.rule) == expected
    # the key is among those the config's val evaluator computes for this model's predictions
    evaluator = Evaluator(cfg.val_evaluator)
    metrics = evaluator.offline_evaluate(fake_predictions(predicted_heads(cfg.model)))
    assert hook.save_best in metrics, (rel(path), sorted(metrics))


def test_auto_would_have_picked_verb_top1_on_epic():
    """Why save_best is explicit: the EPIC evaluator's first key is verb_top1."""
    cfg = Config.fromfile(REPO / 'configs/karmma/teacher_epic.py')
    metrics = Evaluator(cfg.val_evaluator).offline_evaluate(fake_predictions(('verb', 'noun')))
    assert list(metrics)[0] == 'verb_top1' and 'action_top1' in metrics
