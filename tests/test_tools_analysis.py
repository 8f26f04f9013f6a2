"""tools/analysis/missing_modality_eval.py and results_table.py on the tiny toy data with
random-init checkpoints: progress is logged, outputs land in folders that did not exist. The
tools' ``main`` runs in-process (``e2e_utils.call_tool``)."""
import json

import pytest
import torch
from conftest import link_toy
from e2e_utils import REPO, call_tool, load_tool
from mmengine.config import Config

from mmaction.registry import MODELS

FAST = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory, toy_data):
    return link_toy(tmp_path_factory.mktemp('analysis'), toy_data)


def random_checkpoint(cfg_path, out):
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(str(REPO / cfg_path)).model)
    torch.save(dict(state_dict=model.state_dict()), out)
    return out


def test_missing_modality_eval_progress_and_outputs(toy_root):
    cfg = 'configs/karmma/toy/baseline_epic.py'
    ckpt = random_checkpoint(cfg, toy_root / 'baseline_epic.pth')
    out = toy_root / 'new' / 'folder' / 'combos.json'
    proc = call_tool(load_tool('tools/analysis/missing_modality_eval.py').main,
                     ['--model', 'Base', REPO / cfg, ckpt, '--out', out, '--log-interval', '1',
                      '--launcher', 'none', '--cfg-options', *FAST], cwd=toy_root)
    log = proc.stdout + proc.stderr
    assert '[Base] modalities V+F+A (1/7)' in log and '[Base] modalities A (7/7)' in log
    assert 'Epoch(test) [1/' in log  # the runner's progress, not silenced
    res = json.loads(out.read_text())
    assert list(res['Base']) == ['V+F+A', 'V+F', 'V+A', 'F+A', 'V', 'F', 'A']
    assert 'Inference modalities' in proc.stdout


def test_results_table_progress_and_outputs(toy_root):
    cfg = 'configs/mm2rgb/toy/baseline_rgb_sthv2.py'
    ckpt = random_checkpoint(cfg, toy_root / 'baseline_rgb.pth')
    out = toy_root / 'other' / 'new' / 'table.json'
    proc = call_tool(load_tool('tools/analysis/results_table.py').main,
                     ['--row', 'Baseline', 'RGB frames', REPO / cfg, ckpt, '--out', out,
                      '--log-interval', '1', '--cfg-options', *FAST], cwd=toy_root)
    log = proc.stdout + proc.stderr
    assert 'results_table: row 1/1: Baseline' in log and 'Epoch(test) [1/' in log
    metrics = json.loads(out.read_text())['Baseline']
    assert 0.0 <= metrics['top1'] <= metrics['top5'] <= 1.0
    assert '| Baseline | RGB frames' in proc.stdout
