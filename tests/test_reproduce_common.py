"""benchmarks/reproduce/common.py: statistics (hand-computed), config rewriting, metric reading."""
import json
import math
import os.path as osp
import sys

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks', 'reproduce'))

import common  # noqa: E402


def test_mean_std_hand_values():
    assert common.mean_std([1.0, 2.0, 3.0]) == (2.0, 1.0)
    m, s = common.mean_std([0.5])
    assert m == 0.5 and math.isnan(s)
    with pytest.raises(ValueError, match='no values'):
        common.mean_std([])


def test_paired_difference_t_interval():
    # diffs 2, 3, 4: mean 3, sd 1, t(0.975, df=2) = 4.302652729749464 → half 4.3027 / sqrt(3)
    d = common.paired_difference([3.0, 5.0, 7.0], [1.0, 2.0, 3.0])
    assert d['diffs'] == [2.0, 3.0, 4.0] and d['mean'] == 3.0 and d['std'] == 1.0
    half = 4.302652729749464 / math.sqrt(3)
    assert d['ci'] == pytest.approx([3.0 - half, 3.0 + half], abs=1e-9)
    assert d['ci'][0] == pytest.approx(0.51586, abs=1e-5)
    # pairing matters: the same values unpaired would not give a positive interval
    d = common.paired_difference([10.0, 0.0, 5.0], [9.0, -1.0, 4.0])
    assert d['std'] == 0.0 and d['ci'] == [1.0, 1.0]
    one = common.paired_difference([2.0], [1.0])
    assert one['mean'] == 1.0 and all(math.isnan(x) for x in one['ci'])
    with pytest.raises(ValueError, match='2 and 1'):
        common.paired_difference([1.0, 2.0], [1.0])


@pytest.mark.parametrize('diffs,kind,expected', [
    ([2.0, 3.0, 4.0], 'greater', 'held'),               # CI [0.52, 5.48] above 0
    ([-1.0, 3.0, 4.0], 'greater', 'inconclusive'),      # mean 2, CI includes 0
    ([-1.0, 0.0, 1.0], 'greater', 'not held'),          # mean 0
    ([-1.0, 0.0, 0.5], 'not_less', 'inconclusive'),     # mean < 0, CI includes 0
    ([-3.0, -2.0, -4.0], 'not_less', 'not held'),       # CI below 0
    ([0.0, 0.0, 0.0], 'not_less', 'held'),
    ([1.0], 'greater', 'held (1 seed)'),
    ([-1.0], 'not_less', 'not held (1 seed)'),
])
def test_verdict(diffs, kind, expected):
    d = common.paired_difference(diffs, [0.0] * len(diffs))
    assert common.verdict(d, kind) == expected


def test_verdict_unknown_kind():
    with pytest.raises(ValueError, match="'less'"):
        common.verdict(common.paired_difference([1.0, 2.0], [0.0, 0.0]), 'less')


def test_fmt_pm():
    assert common.fmt_pm([0.5, 0.6, 0.7]) == '60.0 ± 10.0'
    assert common.fmt_pm([0.625]) == '62.5'


def test_replace_prefixes_only_whole_path_components():
    mapping = {'data/toy': '/d', 'work_dirs/': '/o/seed0/'}
    cfg = dict(a='data/toy/epic/x.csv', b=['data/toy2/x', ('work_dirs/toy_teacher_epic', 3)],
               c='data/toy', d=dict(e='other/data/toy/x'))
    out = common._replace_prefixes(cfg, mapping)
    assert out == dict(a='/d/epic/x.csv', b=['data/toy2/x', ('/o/seed0/toy_teacher_epic', 3)],
                       c='/d', d=dict(e='other/data/toy/x'))


def test_last_metrics_reads_final_validation(tmp_path):
    vis = tmp_path / '20260101_000000' / 'vis_data'
    vis.mkdir(parents=True)
    lines = [dict(loss=1.0, step=1), dict(top1=0.25, step=5), dict(loss=0.5, step=10),
             dict(top1=0.5, top5=0.9, step=10)]
    (vis / 'scalars.json').write_text('\n'.join(json.dumps(x) for x in lines))
    assert common._last_metrics(tmp_path, ['top1'])['top1'] == 0.5
    with pytest.raises(RuntimeError, match='mean_class_accuracy'):
        common._last_metrics(tmp_path, ['mean_class_accuracy'])


def test_suite_config_rewrites_paths_seed_and_validation(tmp_path):
    from mmengine.config import Config
    args = common.parse_args('t', ['--seed-list', '4', '--out', str(tmp_path), '--epochs', '3'])
    suite = common.Suite('t', args)
    path = suite.config('configs/karmma/toy/student_epic.py', 'toy_student_epic', 4)
    cfg = Config.fromfile(str(path))
    assert cfg.randomness == dict(seed=4, deterministic=True, diff_rank_seed=False)
    assert cfg.train_cfg.max_epochs == 3 and cfg.train_cfg.val_interval == 3
    assert cfg.model.teacher_ckpt == str(tmp_path / 'seed4' / 'toy_teacher_epic')
    assert cfg.train_dataloader.dataset.ann_file == str(
        tmp_path / 'data' / 'epic' / 'annotations' / 'EPIC_100_train.csv')
    assert cfg.default_hooks.checkpoint.interval == 3
    assert cfg.default_hooks.checkpoint.save_best is None
    # nothing left pointing at the demo's data or work dirs
    text = path.read_text()
    assert "'data/toy" not in text and "'work_dirs/" not in text


def test_claim_and_tables(tmp_path):
    suite = common.Suite('t', common.parse_args('t', ['--seeds', '3', '--out', str(tmp_path)]))
    for s, (a, b) in enumerate([(0.6, 0.5), (0.7, 0.6), (0.65, 0.6)]):
        suite.record('student', s, dict(top1=a), wall_s=10.0)
        suite.record('baseline', s, dict(top1=b), wall_s=5.0)
    c = suite.claim('student > baseline', 'student', 'baseline', 'top1')
    assert c['diffs'] == pytest.approx([10.0, 10.0, 5.0])
    assert c['verdict'] == 'held'   # mean 8.33, sd 2.89, CI [1.16, 15.5]
    assert c['ci'][0] == pytest.approx(8.3333 - 4.302653 * 2.886751 / math.sqrt(3), abs=1e-3)
    tab = suite.table(['student', 'baseline'], ['top1'])
    assert '| student | 65.0 ± 5.0 |' in tab and '| baseline | 56.7 ± 5.8 |' in tab
    text = suite.finish([('Table', tab)])
    data = json.loads((tmp_path / 'results.json').read_text())
    assert data['claims'][0]['verdict'] == 'held' and data['seeds'] == [0, 1, 2]
    assert '+8.3 [+1.2, +15.5]' in text and (tmp_path / 'summary.md').exists()
