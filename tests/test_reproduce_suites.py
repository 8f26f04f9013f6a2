"""The seeded reproduction suites (benchmarks/reproduce/) end to end: a 1-seed, 2-epoch smoke of
each method's suite on tiny toy data, and one-seed-one-result determinism of a training run."""
import json
import os
import os.path as osp
import subprocess
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks', 'reproduce'))

import common  # noqa: E402

SUITES = ['karmma', 'mm2rgb', 'd3d', 'dmcl', 'mml']


def _env():
    env = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    env['PYTHONPATH'] = os.pathsep.join([REPO, env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    return env


@pytest.mark.parametrize('name', SUITES)
def test_suite_smoke(name, tmp_path):
    """``<method>.py --smoke``: trains every row (1 seed, 2 epochs), writes JSON, Markdown, PNG."""
    proc = subprocess.run(
        [sys.executable, osp.join('benchmarks', 'reproduce', f'{name}.py'), '--smoke', '--out',
         str(tmp_path)], cwd=REPO, env=_env(), capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads((tmp_path / 'results.json').read_text())
    assert data['method'] == name and data['seeds'] == [0] and data['data_scale'] == 'smoke'
    assert data['epochs_override'] == 2
    assert data['claims'], 'a suite measures at least one claim of its paper'
    rows = set(data['results'])
    for c in data['claims']:
        assert c['n'] == 1 and c['verdict'].endswith('(1 seed)'), c
        assert c['a'] in rows and c['b'] in rows, c
        assert len(c['diffs']) == 1
    # every trained run ran the smoke's 2 epochs on the suite's data (test-only runs, e.g.
    # mm2rgb's logit-ensemble teachers, have no training loop)
    configs = list(tmp_path.glob('seed0/*/config.py'))
    trained = [c for c in configs if (c.parent / 'last_checkpoint').exists()]
    assert trained
    for cfg in configs:
        text = cfg.read_text()
        assert "'data/toy/" not in text, cfg
        if cfg in trained:
            assert 'max_epochs=2,' in text.replace(' ', ''), cfg
    assert list(tmp_path.glob('*.png')), 'no figure written'
    summary = (tmp_path / 'summary.md').read_text()
    assert 'seeds [0]' in summary and '(1 seed)' in summary


def _weights(path):
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    return {k: v for k, v in state.items() if torch.is_tensor(v)}


def test_one_seed_one_result(tmp_path):
    """The same seed gives the same weights and metrics (deterministic CPU runs, seeded
    workers, random crop and colour jitter on); another seed gives other weights."""
    cfg = 'configs/mm2rgb/toy/baseline_rgb_sthv2.py'
    runs = {}
    for tag, seed in (('a', 0), ('b', 0), ('c', 1)):
        suite = common.Suite('det', common.parse_args(
            'det', ['--smoke', '--seed-list', str(seed), '--out', str(tmp_path / tag)]))
        suite.data_dir = tmp_path / 'data'   # the same data for the three runs
        suite.generate_data(('sthv2', ))
        metrics = suite.train(cfg, 'rgb', seed, ['top1'])
        runs[tag] = (metrics, _weights(suite.checkpoint('rgb', seed)))
    (ma, wa), (mb, wb), (_, wc) = runs['a'], runs['b'], runs['c']
    assert ma == mb
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.equal(wa[k], wb[k]), k
    assert any(not torch.equal(wa[k], wc[k]) for k in wa if wa[k].is_floating_point())
