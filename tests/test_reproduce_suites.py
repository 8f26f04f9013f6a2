"""The seeded reproduction suites (benchmarks/reproduce/) end to end, and one seed → one result.

Each suite's ``--smoke`` (common.parse_args) runs its whole machinery in-process: data
generation, its declared ``SMOKE_ROWS`` (one row per kind of run), the evaluation tools, claims,
JSON, Markdown (render.py) and PNGs, on tiny data, 1 seed, 1 epoch. One seed has no interval:
intervals, mde and verdicts are unit-tested in tests/test_reproduce_common.py.
"""
import importlib
import json
import os.path as osp
import sys

import pytest
import torch

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks', 'reproduce'))

import common  # noqa: E402
import render  # noqa: E402

SUITES = ['karmma', 'mm2rgb', 'd3d', 'dmcl', 'mml']


@pytest.mark.parametrize('name', SUITES)
def test_suite_smoke(name, tmp_path, monkeypatch):
    """``<method>.py --smoke``: its smoke rows (1 seed, 1 epoch), JSON, Markdown, PNG."""
    monkeypatch.setenv('OMP_NUM_THREADS', '1')
    suite_module = importlib.import_module(name)
    suite_module.main(['--smoke', '--out', str(tmp_path)])
    data = json.loads((tmp_path / 'results.json').read_text())
    assert data['method'] == name and data['seeds'] == [0] and data['data_scale'] == 'smoke'
    assert data['epochs_override'] == common.SMOKE_EPOCHS
    assert data['claims'], 'a suite measures at least one claim of its paper'
    rows = set(data['results'])
    for c in data['claims']:
        assert c['n'] == 1 and c['verdict'] == common.NO_INTERVAL, c
        assert c['a'] in rows and c['b'] in rows, c
        assert len(c['diffs']) == 1 and len(c['a_values']) == 1
    # only the declared smoke rows were trained among the recorded training rows
    declared = data['smoke_rows']
    assert declared is not None
    assert all(s['reason'].startswith('rows not run in the smoke') for s in data['skipped_claims'])
    # every trained run ran the smoke's epochs on the suite's data (test-only runs, e.g.
    # mm2rgb's logit-ensemble teachers, have no training loop)
    configs = list(tmp_path.glob('seed0/*/config.py'))
    trained = [c for c in configs if (c.parent / 'last_checkpoint').exists()]
    assert trained
    for cfg in configs:
        text = cfg.read_text()
        assert "'data/toy/" not in text, cfg
        if cfg in trained:
            assert f'max_epochs={common.SMOKE_EPOCHS},' in text.replace(' ', ''), cfg
    pngs = sorted(p.name for p in tmp_path.glob('*.png'))
    assert pngs and pngs == sorted(data['figures']), 'figures written and listed in the JSON'
    summary = (tmp_path / 'summary.md').read_text()
    assert 'Seeds [0]' in summary and common.NO_INTERVAL in summary
    # one renderer: the summary is what render.py makes of the JSON
    assert summary == render.method_markdown(data)
    timings = json.loads((tmp_path / 'timings.json').read_text())
    assert 'generate_data.log' in timings and data['compute_s'] > 0
    if name == 'karmma':
        _check_rows_diagnostic(tmp_path, data)


def _check_rows_diagnostic(out, data):
    """``karmma_diagnostics.py rows`` on the smoke's Baseline: one line per factor with a top-1
    per fused row, and the top-1 of the mean of the rows equal to the run's own validation
    (the head averages the rows' logits)."""
    import contextlib
    import io
    import re
    diag = importlib.import_module('karmma_diagnostics')
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        diag.main(['rows', '--out', str(out), '--runs', str(out / 'seed0' / 'toy_baseline_epic')])
    lines = [ln for ln in buf.getvalue().splitlines() if ln.startswith('[karmma_diagnostics]')]
    assert [ln.split(' ')[2] for ln in lines] == ['verb:', 'noun:'], lines
    base = data['results']['Baseline']['0']
    for line, k in zip(lines, ('verb', 'noun')):
        per_row = re.search(r'top-1 per row ([\d. /]+) \(', line).group(1).split(' / ')
        assert len(per_row) == 4                      # V, F, A rows and CLS
        mean = float(re.search(r'mean of the rows ([\d.]+)', line).group(1))
        assert mean == pytest.approx(100 * base[f'{k}_top1'], abs=0.05), line


def _weights(path):
    state = torch.load(path, map_location='cpu', weights_only=False)['state_dict']
    return {k: v for k, v in state.items() if torch.is_tensor(v)}


def test_one_seed_one_result(tmp_path):
    """The same seed gives the same weights and metrics, whether the run is a process of its
    own (``launch.py tools/train.py``, the full suites) or runs in-process (``--smoke``);
    another seed gives other weights (deterministic CPU runs, seeded workers, random crop and
    colour jitter on)."""
    cfg = 'configs/mm2rgb/toy/baseline_rgb_sthv2.py'
    runs = {}
    for tag, seed, in_process in (('a', 0, False), ('b', 0, True), ('c', 1, True)):
        args = ['--smoke', '--seed-list', str(seed), '--out', str(tmp_path / tag)]
        suite = common.Suite('det', common.parse_args('det', args))
        suite.in_process = in_process
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
