"""benchmarks/reproduce/common.py and render.py: statistics and verdicts on hand-computed values,
claims and calibration, config rewriting, tool running, and the committed tables against their
JSON."""
import hashlib
import json
import math
import os
import os.path as osp
import sys
from pathlib import Path

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, osp.join(REPO, 'benchmarks', 'reproduce'))

import common  # noqa: E402
import render  # noqa: E402


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
    # n = 3: the 80 %-power effect of a two-sided paired t at 0.05 is 3.2640 sd
    assert d['mde'] == pytest.approx(3.26404, abs=1e-4)
    # pairing matters: the same values unpaired would not give a positive interval
    d = common.paired_difference([10.0, 0.0, 5.0], [9.0, -1.0, 4.0])
    assert d['std'] == 0.0 and d['ci'] == [1.0, 1.0] and d['mde'] == 0.0
    one = common.paired_difference([2.0], [1.0])
    assert one['mean'] == 1.0 and all(math.isnan(x) for x in one['ci'])
    assert math.isnan(one['mde'])
    with pytest.raises(ValueError, match='2 and 1'):
        common.paired_difference([1.0, 2.0], [1.0])


def _power_by_integration(effect, n, alpha=0.05):
    """Power of the two-sided one-sample t-test without the noncentral t: integrate the normal
    tail probabilities over the chi-square law of (n-1)·s²/σ²."""
    from scipy import integrate
    from scipy.stats import chi2, norm, t
    df = n - 1
    crit = t.ppf(1 - alpha / 2, df)
    nc = effect * math.sqrt(n)

    def f(v):
        c = crit * math.sqrt(v / df)
        return (norm.sf(c - nc) + norm.cdf(-c - nc)) * chi2.pdf(v, df)
    return integrate.quad(f, 0, math.inf, limit=200)[0]


@pytest.mark.parametrize('n,effect', [(2, 11.54989), (3, 3.26404), (5, 1.68200), (10, 0.99600)])
def test_mde_hand_values(n, effect):
    assert common.mde(2.0, n) == pytest.approx(2.0 * effect, rel=1e-4)
    # at the mde the design has 80 % power (checked without scipy's noncentral t)
    assert _power_by_integration(common.mde(1.0, n), n) == pytest.approx(0.8, abs=1e-6)
    # a smaller effect has less power: the mde is the smallest detectable one
    assert _power_by_integration(0.95 * common.mde(1.0, n), n) < 0.79


def test_mde_limits():
    # large n: (z_0.975 + z_0.8) / sqrt(n) = 2.8016 / sqrt(n)
    assert common.mde(1.0, 400) == pytest.approx(2.8016 / 20, rel=5e-3)
    assert common.mde(0.0, 5) == 0.0
    assert math.isnan(common.mde(1.0, 1)) and math.isnan(common.mde(float('nan'), 5))


def _diff(lo, hi, n=3):
    return dict(n=n, ci=[lo, hi])


@pytest.mark.parametrize('ci,expected', [
    ((0.001, 5.0), 'held'),
    ((0.0, 5.0), 'inconclusive'),       # touching 0 is not above it
    ((-4.3, 2.7), 'inconclusive'),      # mean < 0 but the interval spans 0 (was "not held")
    ((-5.0, 0.0), 'inconclusive'),
    ((-5.0, -0.001), 'not held'),
    ((0.0, 0.0), 'inconclusive'),       # identical runs: no difference either way
])
def test_verdict_greater_boundaries(ci, expected):
    assert common.verdict(_diff(*ci), 'greater') == expected


@pytest.mark.parametrize('ci,expected', [
    ((-0.999, 5.0), 'held'),
    ((-1.0, 5.0), 'inconclusive'),      # low end at −margin
    ((-3.0, -1.0), 'inconclusive'),     # high end at −margin
    ((-3.0, -1.001), 'not held'),
    ((-0.5, -0.1), 'held'),             # worse, but by less than the margin: non-inferior
])
def test_verdict_noninferior_boundaries(ci, expected):
    assert common.verdict(_diff(*ci), 'noninferior', margin=1.0) == expected


@pytest.mark.parametrize('diffs,kind,expected', [
    ([2.0, 3.0, 4.0], 'greater', 'held'),               # CI [0.52, 5.48] above 0
    ([-1.0, 3.0, 4.0], 'greater', 'inconclusive'),      # mean 2, CI includes 0
    ([-1.0, 0.0, 1.0], 'greater', 'inconclusive'),      # mean 0 (was "not held")
    ([-2.0, -3.0, -4.0], 'greater', 'not held'),        # CI [-5.48, -0.52]
    ([1.0], 'greater', '1 seed: no interval'),
    ([-1.0], 'noninferior', '1 seed: no interval'),
])
def test_verdict_from_diffs(diffs, kind, expected):
    d = common.paired_difference(diffs, [0.0] * len(diffs))
    margin = 1.0 if kind == 'noninferior' else None
    assert common.verdict(d, kind, margin) == expected


@pytest.mark.parametrize('kind,margin,match', [
    ('less', None, "'less' unknown"),
    ('not_less', None, "noninferior' with a margin"),
    ('noninferior', None, 'needs margin > 0'),
    ('noninferior', 0.0, 'needs margin > 0'),
    ('noninferior', -1.0, 'needs margin > 0'),
    ('noninferior', float('inf'), 'needs margin > 0'),
    ('greater', 1.0, "only for kind='noninferior'"),
])
def test_verdict_bad_kind_or_margin(kind, margin, match):
    with pytest.raises(ValueError, match=match):
        common.verdict(_diff(1.0, 2.0), kind, margin)


@pytest.mark.parametrize('control,verdict,ok', [
    ('positive', 'held', True), ('positive', 'inconclusive', False),
    ('positive', 'not held', False), ('negative', 'inconclusive', True),
    ('negative', 'held', False), ('negative', 'not held', False),
    ('negative', '1 seed: no interval', None), (None, 'held', None),
])
def test_control_ok(control, verdict, ok):
    assert common.control_ok(control, verdict) is ok


def test_check_paper():
    assert common.check_paper(dict(ref='KARMMA Tab. 1, V+A', a=45.5, b=40.0)) == dict(
        ref='KARMMA Tab. 1, V+A', a=45.5, b=40.0, diff=5.5)
    assert common.check_paper(dict(ref='D3D §4', diff=2)) == dict(ref='D3D §4', a=None, b=None,
                                                                  diff=2.0)
    assert common.check_paper(None) is None
    with pytest.raises(ValueError, match="unknown keys \\['table'\\]"):
        common.check_paper(dict(ref='x', table=1))
    with pytest.raises(ValueError, match="paper\\['a'\\] must be a number"):
        common.check_paper(dict(ref='x', a='61.3'))
    with pytest.raises(ValueError, match='ref='):
        common.check_paper(dict(a=1.0))


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


def test_plain_config_text_round_trip(tmp_path):
    """The unformatted dump loads back to the same config; yapf is back afterwards."""
    import mmengine.config.config as mcc
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(REPO, 'configs/mm2rgb/toy/baseline_rgb_sthv2.py'))
    formatter = mcc.FormatCode
    with common.plain_config_text():
        assert mcc.FormatCode is not formatter
        cfg.dump(str(tmp_path / 'plain.py'))
    assert mcc.FormatCode is formatter
    assert Config.fromfile(str(tmp_path / 'plain.py')).to_dict() == cfg.to_dict()


def _suite(tmp_path, argv=(), smoke_rows=None):
    return common.Suite('t', common.parse_args('t', ['--out', str(tmp_path), *argv]),
                        smoke_rows=smoke_rows)


def _record(suite, row, values, metric='top1'):
    for s, v in zip(suite.seeds, values):
        suite.record(row, s, {metric: v}, wall_s=1.0)


def test_claim_fields_and_tables(tmp_path):
    suite = _suite(tmp_path, ['--seeds', '3'])
    _record(suite, 'student', [0.6, 0.7, 0.65])
    _record(suite, 'baseline', [0.5, 0.6, 0.6])
    c = suite.claim('student > baseline', 'student', 'baseline', 'top1',
                    paper=dict(ref='P Tab. 1', a=63.9, b=62.5))
    assert c['diffs'] == pytest.approx([10.0, 10.0, 5.0])
    assert c['a_values'] == pytest.approx([60.0, 70.0, 65.0])
    assert c['b_values'] == pytest.approx([50.0, 60.0, 60.0])
    assert c['verdict'] == 'held'   # mean 8.33, sd 2.89, CI [1.16, 15.5]
    assert c['ci'][0] == pytest.approx(8.3333 - 4.302653 * 2.886751 / math.sqrt(3), abs=1e-3)
    assert c['mde'] == pytest.approx(3.26404 * 2.886751, rel=1e-4)
    assert c['paper'] == dict(ref='P Tab. 1', a=63.9, b=62.5, diff=pytest.approx(1.4))
    assert c['control'] is None and c['control_ok'] is None and c['digits'] == 1
    tab = suite.table(['student', 'baseline'], ['top1'])
    assert '| student | 65.0 ± 5.0 |' in tab and '| baseline | 56.7 ± 5.8 |' in tab
    text = suite.finish([('Table', tab)])
    data = json.loads((tmp_path / 'results.json').read_text())
    assert data['claims'][0]['verdict'] == 'held' and data['seeds'] == [0, 1, 2]
    assert data['tables'] == [dict(title='Table', markdown=tab)]
    row = ('| student > baseline | P Tab. 1: 63.90 vs 62.50 (+1.40) | student 65.0 ± 5.0; '
           'baseline 56.7 ± 5.8 (3 seeds) | +8.3 [+1.2, +15.5] | 9.4 | held |')
    assert row in text.splitlines()
    assert (tmp_path / 'summary.md').read_text() == text == render.method_markdown(data)
    # the suite has no controls yet: said, not hidden
    assert data['calibration'] == dict(ok=None, failed=[], missing=['positive', 'negative'],
                                       controls=[])
    assert '- no positive control in this suite' in text


def test_noninferior_claim_needs_margin(tmp_path):
    suite = _suite(tmp_path, ['--seeds', '2'])
    _record(suite, 'a', [0.5, 0.6])
    _record(suite, 'b', [0.5, 0.6])
    with pytest.raises(ValueError, match='needs margin'):
        suite.claim('a ≥ b', 'a', 'b', 'top1', kind='noninferior')
    c = suite.claim('a ≥ b', 'a', 'b', 'top1', kind='noninferior', margin=2.0)
    assert c['margin'] == 2.0 and c['verdict'] == 'held'   # CI [0, 0]: low end 0 > −2
    assert c['ci'] == [0.0, 0.0]


def test_held_noninferior_claim(tmp_path):
    suite = _suite(tmp_path, ['--seeds', '3'])
    _record(suite, 'theta', [0.50, 0.60, 0.55])
    _record(suite, 'none', [0.505, 0.60, 0.555])
    # diffs −0.5, 0, −0.5: mean −0.333, sd 0.2887, CI [−1.05, +0.38]: above −2, below +0.4
    assert suite.claim('t', 'theta', 'none', 'top1', kind='noninferior',
                       margin=2.0)['verdict'] == 'held'
    assert suite.claim('t', 'theta', 'none', 'top1', kind='noninferior',
                       margin=1.0)['verdict'] == 'inconclusive'


def test_failed_control_is_flagged(tmp_path, capsys):
    suite = _suite(tmp_path, ['--seeds', '3'])
    _record(suite, 'method', [0.60, 0.70, 0.65])
    _record(suite, 'method (seeds +1000)', [0.50, 0.60, 0.60])
    _record(suite, 'oracle teacher', [0.60, 0.62, 0.64])
    _record(suite, 'baseline', [0.60, 0.61, 0.65])
    # the method against itself under other seeds comes out "held": the suite is miscalibrated
    neg = suite.claim('method vs itself, other seeds', 'method', 'method (seeds +1000)', 'top1',
                      control='negative')
    pos = suite.claim('label-seeing teacher > baseline', 'oracle teacher', 'baseline', 'top1',
                      control='positive')
    assert neg['verdict'] == 'held' and neg['control_ok'] is False
    assert pos['verdict'] == 'inconclusive' and pos['control_ok'] is False
    text = suite.finish([])
    data = json.loads((tmp_path / 'results.json').read_text())
    cal = data['calibration']
    assert cal['ok'] is False and cal['missing'] == []
    assert cal['failed'] == [
        'negative control "method vs itself, other seeds" came out held (must be inconclusive)',
        'positive control "label-seeing teacher > baseline" came out inconclusive (must be '
        'held)']
    assert '**CALIBRATION FAILED**: negative control' in text
    assert '**held: CONTROL FAILED** (must be inconclusive)' in text
    assert 'CALIBRATION FAILED' in capsys.readouterr().err
    with pytest.raises(ValueError, match="control must be one of"):
        suite.claim('x', 'method', 'baseline', 'top1', control='placebo')


def test_passed_controls(tmp_path):
    suite = _suite(tmp_path, ['--seeds', '3'])
    _record(suite, 'method', [0.60, 0.70, 0.65])
    _record(suite, 'method (seeds +1000)', [0.62, 0.66, 0.66])
    _record(suite, 'oracle', [0.90, 0.95, 0.92])
    suite.claim('neg', 'method', 'method (seeds +1000)', 'top1', control='negative')
    suite.claim('pos', 'oracle', 'method', 'top1', control='positive')
    cal = suite.calibration()
    assert cal['ok'] is True and cal['failed'] == [] and [x['ok'] for x in cal['controls']] == [
        True, True]


def test_seed_offset_row_is_paired_with_the_suite_seed(tmp_path):
    """``seed_offset`` trains in seed<S+offset>/ and records under S (results reused here)."""
    suite = _suite(tmp_path, ['--seeds', '2'])
    for s in (0, 1):
        for seed, v in ((s, 0.5 + s / 10), (s + common.NEGATIVE_CONTROL_OFFSET, 0.4 + s / 10)):
            _fake_result(suite, 'toy_run', seed, v)
        suite.train(TOY_CFG, 'toy_run', s, ['top1'], row='method')
        suite.train(TOY_CFG, 'toy_run', s, ['top1'], row='method (other seeds)',
                    seed_offset=common.NEGATIVE_CONTROL_OFFSET)
    assert suite.values('method', 'top1') == [0.5, 0.6]
    assert suite.values('method (other seeds)', 'top1') == [0.4, 0.5]
    assert suite.seed_offsets == {'method (other seeds)': 1000}
    c = suite.claim('neg', 'method', 'method (other seeds)', 'top1', control='negative')
    assert c['diffs'] == pytest.approx([10.0, 10.0])


TOY_CFG = 'configs/mm2rgb/toy/baseline_rgb_sthv2.py'


def _fake_result(suite, run, seed, top1, cfg_file=TOY_CFG, options=None):
    """A finished run's ``result.json``, made with the config the suite writes for it."""
    cfg_path = suite.config(cfg_file, run, seed, options)
    suite.save_result(cfg_path, dict(config=cfg_file, seed=seed, wall_s=2.0,
                                     metrics=dict(top1=top1)))


def test_every_loader_of_a_run_is_in_the_training_process(tmp_path):
    """The toy configs ask for 2 loader workers; the suite's runs use LOADER_WORKERS (0)."""
    from mmengine.config import Config
    suite = _suite(tmp_path, ['--seeds', '1'])
    assert Config.fromfile(str(common.REPO / TOY_CFG)).train_dataloader.num_workers == 2
    cfg = Config.fromfile(str(suite.config(TOY_CFG, 'toy_run', 0)))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        assert cfg[key].num_workers == common.LOADER_WORKERS == 0
        assert cfg[key].persistent_workers is False
    suite.record('r', 0, dict(top1=0.5))
    assert suite.payload()['loader_workers'] == 0


def _runner_dump(ran):
    """A fake ``run_cmd`` that, like mmengine's runner in ``tools/train.py``, dumps its own copy
    of the config (``launcher`` and ``work_dir`` added) over ``<work dir>/config.py``."""
    def run_cmd(cmd, log):
        ran.append(cmd)
        cfg = Path(cmd[2])
        cfg.write_text(cfg.read_text() + f"\nlauncher='none'\nwork_dir='{cfg.parent}'\n")
    return run_cmd


def test_a_result_of_another_config_is_trained_again(tmp_path, monkeypatch):
    """result.json is reused only when made with the config the suite writes now, whatever the
    runner wrote over config.py while it trained."""
    suite = _suite(tmp_path, ['--seeds', '1'])
    ran = []

    monkeypatch.setattr(suite, 'run_cmd', _runner_dump(ran))
    monkeypatch.setattr(common, '_last_metrics', lambda wd, keys: dict(top1=0.75))
    _fake_result(suite, 'toy_run', 0, 0.5)
    assert suite.train(TOY_CFG, 'toy_run', 0, ['top1']) == dict(top1=0.5) and ran == []
    # the same run dir under another setting (here the learning rate): trained again
    opts = dict(optim_wrapper=dict(optimizer=dict(lr=0.123)))
    cfg_path = suite.config(TOY_CFG, 'toy_run', 0, opts)
    written = hashlib.sha256(cfg_path.read_bytes()).hexdigest()
    assert suite.train(TOY_CFG, 'toy_run', 0, ['top1'], options=opts) == dict(top1=0.75)
    assert len(ran) == 1
    assert "launcher='none'" in cfg_path.read_text()        # the runner's copy is on disk now
    res = json.loads((suite.work_dir('toy_run', 0) / 'result.json').read_text())
    assert res['config_sha256'] == written                  # the hash of the suite's config
    # ... and then reused under that setting
    assert suite.train(TOY_CFG, 'toy_run', 0, ['top1'], options=opts) == dict(top1=0.75)
    assert len(ran) == 1
    # a result.json of before the hash (no config_sha256) is not trusted
    (suite.work_dir('toy_run', 0) / 'result.json').write_text(json.dumps(dict(
        config=TOY_CFG, seed=0, wall_s=1.0, metrics=dict(top1=0.1))))
    assert suite.train(TOY_CFG, 'toy_run', 0, ['top1'], options=opts) == dict(top1=0.75)
    assert len(ran) == 2


def test_a_run_is_trained_again_when_its_data_was_regenerated(tmp_path, monkeypatch):
    """The data's generator stamp enters the config: other data (here another design hash in
    the stamp) makes a finished run stale; the same stamp reuses it."""
    suite = _suite(tmp_path, ['--seeds', '1'])
    stamp = suite.data_dir / '.suite_args.json'
    stamp.parent.mkdir(parents=True)
    stamp.write_text(json.dumps(dict(args=['--seed', '0'], design_sha256='a' * 64)))
    ran = []
    monkeypatch.setattr(suite, 'run_cmd', _runner_dump(ran))
    monkeypatch.setattr(common, '_last_metrics', lambda wd, keys: dict(top1=0.75))
    suite.train(TOY_CFG, 'toy_run', 0, ['top1'])
    suite.train(TOY_CFG, 'toy_run', 0, ['top1'])        # reused
    assert len(ran) == 1
    cfg = (suite.work_dir('toy_run', 0) / 'config.py').read_text()
    assert f"suite_data_sha256='{hashlib.sha256(stamp.read_bytes()).hexdigest()}'" in cfg
    stamp.write_text(json.dumps(dict(args=['--seed', '0'], design_sha256='b' * 64)))
    suite.train(TOY_CFG, 'toy_run', 0, ['top1'])
    assert len(ran) == 2


def test_a_student_is_trained_again_when_its_teacher_was(tmp_path, monkeypatch):
    """A run whose config names other runs (the teacher's members) depends on their results."""
    student = 'configs/mm2rgb/toy/student_rgb_flow_boxes_sthv2.py'
    suite = _suite(tmp_path, ['--seeds', '1'])
    cfg = suite.config(student, 'toy_student', 0)
    ups = suite.upstream_results(cfg, suite.work_dir('toy_student', 0))
    names = [u.parent.name for u in ups]
    # the toy teacher's members
    assert {f'toy_baseline_{m}_sthv2' for m in ('boxes', 'flow', 'rgb')} <= set(names)
    assert 'toy_student' not in names
    assert all(u.parent.parent == suite.seed_dir(0) for u in ups)
    ups = [u for u in ups if u.parent.name.startswith('toy_baseline_')]
    for u in ups:
        u.parent.mkdir(parents=True)
        u.write_text('{"metrics": {"top1": 0.5}}')
    ran = []
    monkeypatch.setattr(suite, 'run_cmd', lambda cmd, log: ran.append(cmd))
    monkeypatch.setattr(common, '_last_metrics', lambda wd, keys: dict(top1=0.6))
    suite.train(student, 'toy_student', 0, ['top1'])
    suite.train(student, 'toy_student', 0, ['top1'])       # reused
    assert len(ran) == 1
    ups[2].write_text('{"metrics": {"top1": 0.55}}')         # the RGB baseline was retrained
    suite.train(student, 'toy_student', 0, ['top1'])
    assert len(ran) == 2


def test_a_baseline_reads_no_run_its_base_files_name_but_do_not_use(tmp_path):
    """Every multimodal → RGB toy config carries the base file's ``toy_baseline_members``
    (naming the three baselines' folders), which only the teachers use: a baseline reads none of
    them (counted, each baseline went stale once the others finished and was trained again)."""
    suite = _suite(tmp_path, ['--seeds', '1'])
    cfg = suite.config('configs/mm2rgb/toy/baseline_rgb_sthv2.py', 'toy_baseline_rgb_sthv2', 0)
    assert 'toy_baseline_flow_sthv2' in cfg.read_text()      # named by an unused variable
    assert suite.upstream_results(cfg, suite.work_dir('toy_baseline_rgb_sthv2', 0)) == []
    teacher = suite.config('configs/mm2rgb/toy/teacher_rgb_flow_sthv2.py', 'toy_teacher', 0)
    names = [u.parent.name for u in suite.upstream_results(teacher,
                                                           suite.work_dir('toy_teacher', 0))]
    assert {'toy_baseline_rgb_sthv2', 'toy_baseline_flow_sthv2'} <= set(names)


def test_a_derived_file_is_current_only_for_its_inputs(tmp_path):
    """An evaluation of finished runs is redone when one of those runs changed."""
    suite = _suite(tmp_path, ['--seeds', '1'])
    a, b, out = tmp_path / 'a.json', tmp_path / 'b.json', tmp_path / 'eval.json'
    a.write_text('{"top1": 0.5}')
    b.write_text('{"top1": 0.6}')
    assert not suite.derived_is_current(out, [a, b])          # not made yet
    out.write_text('{}')
    assert not suite.derived_is_current(out, [a, b])          # made, but with no record
    suite.stamp_derived(out, [a, b])
    assert suite.derived_is_current(out, [a, b])
    b.write_text('{"top1": 0.7}')                             # a run was retrained
    assert not suite.derived_is_current(out, [a, b])
    suite.stamp_derived(out, [a, b])
    b.unlink()                                                # ... or is gone
    assert not suite.derived_is_current(out, [a, b])


def test_smoke_skips_undeclared_rows_and_their_claims(tmp_path):
    suite = _suite(tmp_path, ['--smoke'], smoke_rows=['a'])
    assert suite.seeds == [0] and suite.epochs == common.SMOKE_EPOCHS and suite.in_process
    assert suite.runs('a') and not suite.runs('b') and suite.runs(None)
    # an undeclared row is not trained (the config does not even exist)
    assert suite.train('configs/does_not_exist.py', 'run_b', 0, ['top1'], row='b') is None
    assert not suite.work_dir('run_b', 0).exists()
    suite.record('a', 0, dict(top1=0.5))
    assert suite.claim('a > b', 'a', 'b', 'top1') is None
    assert suite.skipped == [dict(claim='a > b', reason="rows not run in the smoke: ['b']")]
    # outside a smoke run a missing row is an error, not a skip
    full = _suite(tmp_path / 'full', ['--seeds', '1'], smoke_rows=['a'])
    assert full.runs('b')
    full.record('a', 0, dict(top1=0.5))
    with pytest.raises(KeyError):
        full.claim('a > b', 'a', 'b', 'top1')


def test_run_tool_in_process(tmp_path):
    import torch
    script = tmp_path / 'tool.py'
    script.write_text('import sys\nprint("args", sys.argv[1:])\n'
                      'from mmengine.logging import MessageHub\n'
                      'MessageHub.get_instance("tool_run_x")\n'
                      'if "--fail" in sys.argv: sys.exit(3)\n'
                      'if "--raise" in sys.argv: raise ValueError("bad input")\n')
    from mmengine.logging import MessageHub
    argv, det = sys.argv[:], torch.are_deterministic_algorithms_enabled()
    common.run_tool([sys.executable, str(script), '--x', '1'], tmp_path / 'ok.log',
                    in_process=True)
    assert "args ['--x', '1']" in (tmp_path / 'ok.log').read_text()
    assert 'tool_run_x' not in MessageHub._instance_dict   # the tool's managers are dropped
    assert sys.argv == argv and torch.are_deterministic_algorithms_enabled() == det
    with pytest.raises(RuntimeError, match='rc=3'):
        common.run_tool([sys.executable, str(script), '--fail'], tmp_path / 'f.log',
                        in_process=True)
    with pytest.raises(RuntimeError, match="bad input(.|\n)*ValueError: bad input"):
        common.run_tool([sys.executable, str(script), '--raise'], tmp_path / 'r.log',
                        in_process=True)
    with pytest.raises(ValueError, match='expected'):
        common.run_tool(['bash', 'x.sh'], tmp_path / 'b.log')


# ------------------------------------------------------------------------------- render
LEGACY = dict(method='m', seeds=[0, 1, 2], data_scale='full', epochs_override=None, wall_s=60.0,
              results={'a': {'0': dict(top1=0.5, EPE=0.60), '1': dict(top1=0.6, EPE=0.62),
                             '2': dict(top1=0.7, EPE=0.64)},
                       'b': {'0': dict(top1=0.52, EPE=0.50), '1': dict(top1=0.55, EPE=0.60),
                             '2': dict(top1=0.71, EPE=0.61)}},
              claims=[])


def _legacy_claim(metric, kind, diffs, verdict):
    d = common.summarize_diffs(diffs)
    return dict(claim=f'a vs b {metric}', a='a', b='b', metric=metric, b_metric=metric,
                kind=kind, diffs=d['diffs'], mean=d['mean'], std=d['std'], ci=d['ci'],
                n=d['n'], verdict=verdict)


def test_render_rereads_legacy_claims():
    greater = _legacy_claim('top1', 'greater', [-2.0, 5.0, -1.0], 'not held')
    not_less = _legacy_claim('top1', 'not_less', [-2.0, 5.0, -1.0], 'held')
    epe = _legacy_claim('EPE', 'greater', [0.1, 0.02, 0.03], 'held')
    payload = dict(LEGACY, claims=[greater, not_less, epe])
    g, n, e = (render.normalize_claim(c, payload) for c in payload['claims'])
    # a mean ≤ 0 with an interval spanning 0 is inconclusive under the interval rule
    assert g['verdict'] == 'inconclusive' and g['notes'] == ['old format', 'no paper number']
    assert g['a_values'] == pytest.approx([50.0, 60.0, 70.0]) and g['digits'] == 1
    # a "≥" of the old format has no margin: no verdict rather than an invented one
    assert n['verdict'] == common.NO_MARGIN and 'no margin' in n['notes']
    assert e['scale'] == 1.0 and e['digits'] == 3 and e['verdict'] == 'inconclusive'
    cells = render.claim_cells(e)
    assert cells[1] == '– (old format)'
    assert cells[2] == 'a 0.620 ± 0.020; b 0.570 ± 0.061 (3 seeds)'


def test_index_shows_tool_runs_wall_and_workers():
    """The index row of a suite: tool-run minutes, the tools' span (else the invocation's wall,
    in brackets), its --workers and its loader workers (2 for a JSON written before
    LOADER_WORKERS existed)."""
    old = dict(LEGACY, format=2, compute_s=600.0)
    new = dict(LEGACY, format=2, method='n', compute_s=1800.0, wall_s=6.0, span_s=930.0,
               workers=2, loader_workers=0)
    text = render.index_markdown(dict(m=old, n=new), link='{name}.md')
    assert '| tool runs (min) | wall (min) | workers | loader workers |' in text
    assert '| [m](m.md) | 3 | full | 10.0 | (1.0) | – | 2 |' in text
    assert '| [n](n.md) | 3 | full | 30.0 | 15.5 | 2 | 0 |' in text


def test_tool_span_runs_from_the_first_start_to_the_last_end(tmp_path):
    """Each tool ran from its log's mtime minus its seconds to the mtime; the span covers all of
    them (overlapping workers count once, a missing log not at all)."""
    (tmp_path / 'seed0').mkdir()
    for rel, end in (('gen.log', 1000.0), ('seed0/a.log', 1300.0), ('seed0/b.log', 1250.0)):
        (tmp_path / rel).write_text('x')
        os.utime(tmp_path / rel, (end, end))
    timings = {'gen.log': 20.0, 'seed0/a.log': 290.0, 'seed0/b.log': 240.0, 'gone.log': 5000.0}
    assert common.tool_span_s(tmp_path, timings) == pytest.approx(1300.0 - 980.0)
    assert common.tool_span_s(tmp_path, {'gone.log': 1.0}) is None


def test_render_refuses_stale_verdicts():
    c = _legacy_claim('top1', 'greater', [2.0, 3.0, 4.0], 'inconclusive')
    payload = dict(LEGACY, format=2, claims=[c])
    with pytest.raises(ValueError, match="stored verdict 'inconclusive' but its differences "
                                         "give 'held'"):
        render.normalize_claim(c, payload)


def test_replace_block():
    text = 'intro\n<!-- BEGIN generated: claims -->\nold\n<!-- END generated: claims -->\nrest\n'
    assert render.replace_block(text, 'claims', '| new |\n') == (
        'intro\n<!-- BEGIN generated: claims -->\n| new |\n<!-- END generated: claims -->\nrest\n')
    for bad in ('no markers', text + text, text.replace('BEGIN', 'X')):
        with pytest.raises(ValueError, match='need exactly one'):
            render.replace_block(bad, 'claims', 'x')


def test_committed_tables_match_json():
    """README's claims table and docs/reproduce/*.md are what render.py makes of the JSON
    (fix: ``python benchmarks/reproduce/render.py``)."""
    generated = render.render_all()
    assert render.REPO / 'README.md' in generated and len(generated) >= 3
    for path, text in generated.items():
        assert path.read_text() == text, f'{path} differs from its JSON: run render.py'


def test_run_all_publishes_renders_and_flags_calibration(tmp_path, monkeypatch, capsys):
    """run_all.py with a stand-in for the suite process: results.json and its PNG are published
    to --docs, the tables rendered (README block included), a failed control → exit status 2."""
    import subprocess

    import run_all
    docs, readme = tmp_path / 'docs', tmp_path / 'README.md'
    docs.mkdir()
    readme.write_text('# x\n<!-- BEGIN generated: claims -->\n<!-- END generated: claims -->\n'
                      'kept\n')

    def fake_suite(cmd):
        out = Path(cmd[cmd.index('--out') + 1])
        suite = common.Suite('dmcl', common.parse_args('t', ['--seeds', '3', '--out', str(out)]))
        _record(suite, 'dmcl', [0.6, 0.7, 0.65])
        _record(suite, 'dmcl (seeds +1000)', [0.5, 0.6, 0.6])
        suite.claim('DMCL vs itself', 'dmcl', 'dmcl (seeds +1000)', 'top1', control='negative')
        (out / 'bars.png').write_bytes(b'png')
        suite.finish([], [out / 'bars.png'])
        return subprocess.CompletedProcess(cmd, 0)

    monkeypatch.setattr(run_all.subprocess, 'run', fake_suite)
    rc = run_all.main(['--only', 'dmcl', '--out', str(tmp_path / 'out'), '--docs', str(docs),
                       '--readme', str(readme)])
    assert rc == 2   # the negative control came out held
    assert json.loads((docs / 'dmcl.json').read_text())['calibration']['ok'] is False
    assert (docs / 'bars.png').read_bytes() == b'png'
    assert '**CALIBRATION FAILED**' in (docs / 'dmcl.md').read_text()
    assert '| [DMCL](docs/reproduce/dmcl.md) | DMCL vs itself *(negative control)* |' in \
        readme.read_text() and readme.read_text().endswith('<!-- END generated: claims -->\nkept\n')
    assert '**FAILED**' in (docs / 'README.md').read_text()
    assert (tmp_path / 'out' / 'SUMMARY.md').exists()
    out, err = capsys.readouterr()
    assert 'wall time per suite (min): dmcl' in out and 'CALIBRATION FAILED' in err


FAKE_SUITE = '''
import json, os, sys
sys.path.insert(0, {reproduce!r})
from common import Suite, parse_args
suite = Suite('fake', parse_args('fake'))
suite.parallel_train(__file__)
for seed in suite.seeds:
    done = suite.out / f'seed{{seed}}.json'
    with suite.lease(suite.seed_dir(seed)) as held:   # as Suite.result_once
        if held and not done.exists():                 # a cached run, as result.json
            suite.run_cmd([sys.executable, {noop!r}], suite.out / f'seed{{seed}}.log')
            with open(suite.out / 'trained.txt', 'a') as f:
                f.write(f'{{seed}} {{os.getpid()}}\\n')
            done.write_text(json.dumps(dict(pid=os.getpid(), train_only=suite.train_only)))
if suite.only_training():
    sys.exit(0)
print('judged', sorted(json.loads((suite.out / f'seed{{s}}.json').read_text())['pid']
                       for s in suite.seeds))
'''


def test_workers_share_one_queue_of_runs(tmp_path):
    """``--workers 2``: two ``--train-only --shared-queue`` processes walk all the seeds and
    each trains the runs the other does not hold: every run trained exactly once, by a worker,
    both workers busy, nothing trained again by the parent, every run's seconds in
    timings.json, no per-worker file left."""
    import subprocess
    script = tmp_path / 'fake.py'
    (tmp_path / 'noop.py').write_text('import time\ntime.sleep(1.0)\n')
    script.write_text(FAKE_SUITE.format(reproduce=osp.join(REPO, 'benchmarks', 'reproduce'),
                                        noop=str(tmp_path / 'noop.py')))
    out = tmp_path / 'out'
    proc = subprocess.run([sys.executable, str(script), '--out', str(out), '--workers', '2'],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    trained = [line.split() for line in (out / 'trained.txt').read_text().splitlines()]
    assert sorted(int(s) for s, _ in trained) == [0, 1, 2, 3, 4]     # once each
    runs = {s: json.loads((out / f'seed{s}.json').read_text()) for s in range(5)}
    assert all(r['train_only'] for r in runs.values())
    assert len({r['pid'] for r in runs.values()}) == 2               # both workers trained
    assert (out / 'worker0.log').exists() and (out / 'worker1.log').exists()
    assert sorted(json.loads((out / 'timings.json').read_text())) == [
        f'seed{s}.log' for s in range(5)]
    assert not list(out.glob('timings_*.json'))
    assert proc.stdout.strip().startswith('judged')


HOLD = '''
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_CREAT | os.O_RDWR)
fcntl.flock(fd, fcntl.LOCK_EX)
print('held', flush=True)
time.sleep(float(sys.argv[2]))
if len(sys.argv) > 3:
    open(sys.argv[3], 'w').write('{}')
'''


def _hold(tmp_path, folder, seconds, then_write=None):
    """A process holding ``folder``'s lease for ``seconds`` (then writing ``then_write``)."""
    import subprocess
    folder.mkdir(parents=True, exist_ok=True)
    (tmp_path / 'hold.py').write_text(HOLD)
    cmd = [sys.executable, str(tmp_path / 'hold.py'), str(folder / '.lease'), str(seconds)]
    proc = subprocess.Popen(cmd + ([str(then_write)] if then_write else []),
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == 'held'
    return proc


def test_a_run_held_by_a_live_worker_is_skipped_and_freed_with_it(tmp_path, monkeypatch):
    suite = _suite(tmp_path, ['--seeds', '1', '--train-only', '--shared-queue'])
    assert suite.shared_queue
    ran = []
    monkeypatch.setattr(suite, 'run_cmd', lambda cmd, log: ran.append(cmd))
    monkeypatch.setattr(common, '_last_metrics', lambda wd, keys: dict(top1=0.75))
    holder = _hold(tmp_path, suite.work_dir('toy_run', 0), 60)
    try:
        assert suite._leased(suite.work_dir('toy_run', 0))
        with suite.lease(suite.work_dir('toy_run', 0)) as held:
            assert held is False
        assert suite.train(TOY_CFG, 'toy_run', 0, ['top1'], row='r') is None and ran == []
        assert 'r' not in suite.results
    finally:
        holder.kill()
        holder.wait()
    # the kernel dropped the dead holder's lock: the run is trained, its lease freed after
    assert not suite._leased(suite.work_dir('toy_run', 0))
    assert suite.train(TOY_CFG, 'toy_run', 0, ['top1'], row='r') == dict(top1=0.75)
    assert len(ran) == 1 and not suite._leased(suite.work_dir('toy_run', 0))
    # outside a shared queue no lease file is made and the lease is always held
    plain = _suite(tmp_path / 'plain', ['--seeds', '1'])
    with plain.lease(tmp_path / 'plain' / 'x') as held:
        assert held is True
    assert not (tmp_path / 'plain' / 'x' / '.lease').exists()


def test_a_run_waits_for_what_it_reads(tmp_path):
    """wait_for: returns once a held upstream run writes its result; names one that nobody
    holds and that is missing."""
    import time
    suite = _suite(tmp_path, ['--seeds', '1', '--train-only', '--shared-queue'])
    teacher = suite.work_dir('toy_teacher', 0)
    holder = _hold(tmp_path, teacher, 1.0, then_write=teacher / 'result.json')
    (teacher / 'config.py').write_text('')
    t0 = time.time()
    suite.wait_for([teacher / 'result.json'], poll_s=0.05)
    assert (teacher / 'result.json').exists() and time.time() - t0 > 0.5
    holder.wait()
    missing = suite.work_dir('toy_other', 0) / 'result.json'
    suite.wait_for([missing], poll_s=0.05)       # no config.py: no run of the suite, skipped
    missing.parent.mkdir(parents=True)
    (missing.parent / 'config.py').write_text('')
    with pytest.raises(RuntimeError, match='toy_other is read by a run but neither finished'):
        suite.wait_for([missing], poll_s=0.05)
    # outside a shared queue (the suite's order trained it already) nothing is checked
    _suite(tmp_path / 'plain', ['--seeds', '1']).wait_for([missing])


def test_a_failed_worker_is_named(tmp_path):
    script = tmp_path / 'broken.py'
    script.write_text(
        f'import sys\nsys.path.insert(0, {osp.join(REPO, "benchmarks", "reproduce")!r})\n'
        'from common import Suite, parse_args\n'
        'args = parse_args("broken")\n'
        'if args.train_only:\n    sys.exit(3)\n'
        'Suite("broken", args).parallel_train(__file__)\n')
    proc = __import__('subprocess').run(
        [sys.executable, str(script), '--out', str(tmp_path / 'o'), '--workers', '2',
         '--seeds', '2'], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and 'training workers failed' in proc.stderr
    assert 'worker0.log' in proc.stderr and 'worker1.log' in proc.stderr
