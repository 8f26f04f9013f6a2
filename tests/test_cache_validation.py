"""Content-stamped teacher / feature caches: stale caches refused naming what changed, shards
checked on resume (torn ones rewritten, none written twice), non-finite values refused."""
import os
import os.path as osp
import shutil

import h5py
import numpy as np
import pytest
import torch
from conftest import link_toy
from test_feature_cache import TEACHER
from test_feature_cache import _tool as features_tool
from test_feature_cache import frozen_teacher_cfg
from test_teacher_cache import STUDENT, _cwd, _tool, cached_cfg, save_teacher, write_cache

from mmaction.registry import DATASETS, MODELS
from mmdistill_plugin.utils import teacher_cache as tc


@pytest.fixture(scope='module')
def toy(tmp_path_factory, toy_data):
    root = link_toy(tmp_path_factory.mktemp('cache_validation'), toy_data)
    ckpt = save_teacher(root, seed=1)
    return root, ckpt, write_cache(root, ckpt)  # 8 samples, 2 views, 2 shards of 4


def _copy(cache_dir, tmp_path):
    out = str(tmp_path / 'cache')
    shutil.copytree(cache_dir, out)
    return out


def _tear(path):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:len(data) // 2])


def test_reordered_annotation_rows_are_refused_naming_what_changed(toy, tmp_path):
    root, ckpt, cache_dir = toy
    cfg, ds_cfg = cached_cfg(root, ckpt, cache_dir)
    ann = root / ds_cfg.dataset.ann_file
    header, *rows = ann.read_text().splitlines()
    moved = tmp_path / 'same.csv'  # the same content elsewhere: still this cache
    moved.write_text(ann.read_text())
    ds_cfg.dataset.ann_file = str(moved)
    with _cwd(root):
        DATASETS.build(ds_cfg)
        reordered = tmp_path / 'reordered.csv'  # was: served with another sample's logits
        reordered.write_text('\n'.join([header] + rows[::-1]) + '\n')
        ds_cfg.dataset.ann_file = str(reordered)
        with pytest.raises(tc.StaleTeacherCacheError) as info:
            DATASETS.build(ds_cfg)
    msg = str(info.value)
    assert 'dataset.annotations_sha256.ann_file: cache' in msg
    assert 'dataset.sample_ids_sha256: cache' in msg
    first, last = rows[0].split(',')[0], rows[-1].split(',')[0]
    assert f'sample ids: index 0 is {first!r} in the cache, {last!r} now' in msg


def test_rows_are_checked_against_the_sample_ids(toy):
    root, ckpt, cache_dir = toy
    reader = tc.TeacherCacheReader(cache_dir)
    reader.get(5, 0, sample_id=tc.TeacherCacheReader(cache_dir)._file(1)['sample_id'][1]
               .decode())
    with pytest.raises(RuntimeError, match=r"shard_00001\.h5 row 1 holds sample '.*', the "
                                           r"dataset has 'P99_99_9' at index 5"):
        reader.get(5, 0, sample_id='P99_99_9')


def test_nan_logits_in_a_shard_are_refused_when_read(toy, tmp_path):
    cache_dir = _copy(toy[2], tmp_path)
    with h5py.File(osp.join(cache_dir, 'shard_00001.h5'), 'r+') as f:
        f['logits/verb'][1, 0, 2] = np.nan
    reader = tc.TeacherCacheReader(cache_dir)
    reader.get(5, 1)  # the other view of the sample is fine
    with pytest.raises(tc.NonFiniteCacheError, match=(
            rf'teacher cache shard {cache_dir}/shard_00001\.h5 row 1 \(sample 5, view 0\): '
            r'verb has 1 non-finite value\(s\)')):
        reader.get(5, 0)
    why = tc.verify_shard(cache_dir, 1, tc.read_meta(cache_dir), 'logits')
    assert why.startswith('its SHA-256 differs from its digest')


def test_torn_shard_is_named_when_read_and_rewritten_on_resume(toy, tmp_path, capsys):
    root, ckpt, src = toy
    cache_dir = _copy(src, tmp_path)
    _tear(osp.join(cache_dir, 'shard_00001.h5'))
    with pytest.raises(RuntimeError, match=rf'teacher cache shard {cache_dir}/shard_00001\.h5 '
                                           r'does not open \(torn or truncated\?\)'):
        tc.TeacherCacheReader(cache_dir).get(5, 0)
    kept = osp.join(cache_dir, 'shard_00000.h5')
    mtime = os.stat(kept).st_mtime_ns
    capsys.readouterr()
    write_cache(root, ckpt, out=cache_dir)  # was: "cache complete" with the torn shard kept
    out = capsys.readouterr().out
    assert 'shard_00001.h5 is not intact (its SHA-256 differs from its digest' in out
    assert '(1 already written)' in out
    assert os.stat(kept).st_mtime_ns == mtime  # the intact shard is not written twice
    meta = tc.read_meta(cache_dir)
    assert tc.verify_shard(cache_dir, 1, meta, 'logits') is None
    view, logits = tc.TeacherCacheReader(cache_dir).get(5, 1)
    assert logits['verb'].shape == (4, ) and np.isfinite(logits['verb']).all()


def test_resume_with_other_views_or_amp_is_refused(toy, tmp_path):
    root, ckpt, src = toy
    cache_dir = _copy(src, tmp_path)
    with pytest.raises(tc.StaleTeacherCacheError, match=r'run\.views: cache 2, now 3'):
        write_cache(root, ckpt, out=cache_dir, views=3)
    with pytest.raises(tc.StaleTeacherCacheError, match=r'run\.amp: cache False, now True'):
        write_cache(root, ckpt, out=cache_dir, extra=['--amp'])


@pytest.mark.parametrize('option,value', [('--views', '0'), ('--shard-size', '0'),
                                          ('--batch-size', '-1'), ('--views', 'x')])
def test_bad_writer_arguments_create_nothing(tmp_path, option, value, capsys):
    out = tmp_path / 'cache'
    with pytest.raises(SystemExit):
        _tool().main([str(STUDENT), option, value, '--out', str(out)])
    assert not out.exists()  # was: a folder every later run refused
    assert option in capsys.readouterr().err
    with pytest.raises(ValueError, match=r'views must be an integer >= 1, got 0'):
        tc.validate_cache_args(0, 4)


def test_non_finite_outputs_are_not_written(tmp_path):
    views = [[dict(draws={})]] * 2
    for bad, text in ((np.nan, r'verb has 1 non-finite value'),
                      (1e6, r'verb has values up to 1e\+06, beyond float16')):
        logits = dict(verb=np.zeros((2, 1, 3), np.float32))
        logits['verb'][1, 0, 1] = bad
        with pytest.raises(tc.NonFiniteCacheError, match=r'shard shard_00000\.h5 \(samples 0..1'
                                                         r'\): ' + text):
            tc.write_shard(str(tmp_path), 0, [0, 1], views, logits)
        assert not os.listdir(tmp_path)


def test_extract_features_resumes_after_a_kill_and_rewrites_a_torn_shard(toy, monkeypatch,
                                                                         capsys):
    root = toy[0]
    torch.manual_seed(3)
    ckpt = root / 'frozen_teacher.pth'
    torch.save(dict(state_dict=MODELS.build(frozen_teacher_cfg().model).state_dict(), meta={}),
               ckpt)
    args = [str(TEACHER), '--views', '1', '--out', 'features', '--checkpoint', str(ckpt),
            '--shard-size', '2', '--num-workers', '0', '--batch-size', '4', '--cfg-options',
            'model.frozen_backbones=True', 'model.allow_random_frozen=True']
    real, written = tc.write_shard, []

    def killed_at_the_third(*a, **kw):
        if len(written) == 2:
            raise KeyboardInterrupt('killed')
        written.append(a[1])
        return real(*a, **kw)

    def record(*a, **kw):
        written.append(a[1])
        return real(*a, **kw)

    tool = features_tool()
    with _cwd(root):
        monkeypatch.setattr(tc, 'write_shard', killed_at_the_third)
        with pytest.raises(KeyboardInterrupt):
            tool.main(args)
        assert written == [0, 1]
        monkeypatch.setattr(tc, 'write_shard', record)
        written.clear()
        tool.main(args)  # was: KeyError: 'teacher' in write_meta
        assert written == [2, 3]  # the finished shards are not written again
        _tear('features/shard_00000.h5')
        written.clear()
        tool.main(args)
        assert written == [0]
    assert 'shard_00000.h5 is not intact' in capsys.readouterr().out
    reader = tc.TeacherCacheReader(str(root / 'features'), group='tokens')
    assert all(tc.verify_shard(reader.cache_dir, s, reader.meta, 'tokens') is None
               for s in range(4))
