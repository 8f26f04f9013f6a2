"""Teacher-output cache: replayable views, cached = online distillation, stale caches refused."""
import copy
import importlib.util
import os
import os.path as osp

import numpy as np
import pytest
import torch
from conftest import link_toy
from e2e_utils import REPO
from mmengine.config import Config
from mmengine.dataset import pseudo_collate

from mmaction.registry import DATASETS, MODELS
from mmdistill_plugin.datasets.transforms.view import REPLAY_KEY, insert_view_frame_indices
from mmdistill_plugin.utils.teacher_cache import StaleTeacherCacheError, TeacherCacheReader

STUDENT = REPO / 'configs/karmma/toy/student_epic.py'
CACHED = REPO / 'configs/karmma/toy/student_epic_cached.py'


def _tool():
    spec = importlib.util.spec_from_file_location('cache_teacher', REPO / 'tools/cache_teacher.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


class _cwd:
    def __init__(self, path):
        self.path, self.old = path, None

    def __enter__(self):
        self.old = os.getcwd()
        os.chdir(self.path)

    def __exit__(self, *exc):
        os.chdir(self.old)


def save_teacher(root, seed, name='teacher.pth'):
    cfg = Config.fromfile(STUDENT)
    torch.manual_seed(seed)
    teacher = MODELS.build(cfg.model.teacher)
    path = root / 'work_dirs' / name
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(dict(state_dict=teacher.state_dict(), meta={}), path)
    return str(path.relative_to(root))


def write_cache(root, ckpt, out='cache', views=2, shard_size=4, extra=()):
    with _cwd(root):
        _tool().main([str(STUDENT), '--views', str(views), '--out', out, '--shard-size',
                      str(shard_size), '--num-workers', '0', '--batch-size', '4',
                      '--cfg-options', f'model.teacher_ckpt={ckpt}', *extra])
    return str(root / out)


@pytest.fixture(scope='module')
def cache(tmp_path_factory, toy_data):
    root = tmp_path_factory.mktemp('teacher_cache')
    link_toy(root, toy_data)
    ckpt = save_teacher(root, seed=1)
    return root, ckpt, write_cache(root, ckpt)


def cached_cfg(root, ckpt, cache_dir):
    cfg = Config.fromfile(CACHED)
    cfg.model.teacher_ckpt = str(root / ckpt)
    cfg.model.teacher_cache = cache_dir
    ds = copy.deepcopy(cfg.train_dataloader.dataset)
    ds.cache = cache_dir
    return cfg, ds


def test_cache_layout_and_resume(cache, capsys):
    root, ckpt, cache_dir = cache
    reader = TeacherCacheReader(cache_dir)
    assert reader.views == 2 and reader.heads == dict(verb=4, noun=4)
    shards = sorted(f for f in os.listdir(cache_dir) if f.endswith('.h5'))
    assert shards == ['shard_00000.h5', 'shard_00001.h5']  # 8 toy samples, 4 a shard
    view, logits = reader.get(5, 1)
    assert set(view) == {'draws', 'modality_present'}
    assert set(view['draws']) == {'frame_inds', 'crop_bbox'}
    assert logits['verb'].dtype == np.float16 and logits['verb'].shape == (4, )
    # Resuming writes only what is missing.
    kept = osp.join(cache_dir, 'shard_00000.h5')
    mtime = os.stat(kept).st_mtime_ns
    os.remove(osp.join(cache_dir, 'shard_00001.h5'))
    write_cache(root, ckpt)
    assert 'already written' in capsys.readouterr().out
    assert os.stat(kept).st_mtime_ns == mtime
    assert osp.isfile(osp.join(cache_dir, 'shard_00001.h5'))


def test_replayed_view_gives_the_cached_teacher_logits(cache):
    """The teacher on the replayed view reproduces the stored logits (fp16 rounding)."""
    root, ckpt, cache_dir = cache
    cfg, ds_cfg = cached_cfg(root, ckpt, cache_dir)
    with _cwd(root):
        dataset = DATASETS.build(ds_cfg)
        model = MODELS.build(dict(cfg.model, teacher_cache=None)).eval()
        model.build_teacher()
        reader = TeacherCacheReader(cache_dir)
        for idx, k in ((0, 0), (0, 1), (6, 1)):
            sample = dataset.prepare_data(idx, view=k)
            stored_view, stored = reader.get(idx, k)
            assert sample['data_samples'].metainfo['view'] == stored_view['draws']
            data = model.data_preprocessor(pseudo_collate([sample]), False)
            online = model.teacher_logits(data['inputs'], data['data_samples'])
            for h in ('verb', 'noun'):
                np.testing.assert_allclose(online[h][0].numpy(), stored[h].astype(np.float32),
                                           rtol=2e-3, atol=2e-3)
                assert torch.equal(sample['data_samples'].teacher_logits.get(h),
                                   torch.from_numpy(stored[h].astype(np.float32)))


@pytest.mark.parametrize('config', ['configs/_base_/datasets/toy_sthv2.py'])
def test_replay_reproduces_pixels_boxes_flip_and_jitter(cache, config):
    """Record a view with every random transform, replay it: identical arrays."""
    root = cache[0]
    base = Config.fromfile(REPO / config)
    pipeline = insert_view_frame_indices(base.toy_train_pipeline[:-1] + [
        dict(type='MultimodalFlip', flip_ratio=0.5),
        dict(type='MultimodalColorJitter'),
        dict(type='PackMultimodalInputs')])
    ds_cfg = dict(base.toy_train_dataset, type='SomethingSomethingV2Dataset', pipeline=pipeline)
    with _cwd(root):
        dataset = DATASETS.build(ds_cfg)
        flips = set()
        for seed in range(6):
            np.random.seed(seed)
            first = dataset.pipeline(dataset.get_data_info(seed % len(dataset)))
            view = first['data_samples'].metainfo['view']
            assert set(view) == {'frame_inds', 'crop_bbox', 'flip', 'color_jitter'}
            flips.add(view['flip'])
            np.random.seed(1000 + seed)  # another RNG state: only the replayed draws matter
            info = dataset.get_data_info(seed % len(dataset))
            info[REPLAY_KEY] = view
            again = dataset.pipeline(info)
            for m in ('rgb', 'flow', 'boxes'):
                assert torch.equal(first['inputs'][m], again['inputs'][m]), m
            np.random.seed(2000 + seed)
            fresh = dataset.pipeline(dataset.get_data_info(seed % len(dataset)))
            assert not torch.equal(first['inputs']['rgb'], fresh['inputs']['rgb'])
        assert flips == {True, False}


def test_cached_loss_equals_online_loss(cache):
    root, ckpt, cache_dir = cache
    cfg, ds_cfg = cached_cfg(root, ckpt, cache_dir)
    with _cwd(root):
        dataset = DATASETS.build(ds_cfg)
        np.random.seed(0)
        batch = pseudo_collate([dataset.prepare_data(i, view=i % 2) for i in range(4)])
        torch.manual_seed(0)
        cached = MODELS.build(cfg.model).train()
        online = MODELS.build(dict(cfg.model, teacher_cache=None)).train()
        online.load_state_dict(cached.state_dict())
        assert not cached.teacher_built  # no teacher is built for cached training
        torch.manual_seed(1)
        l_cached = cached(**cached.data_preprocessor(copy.deepcopy(batch), True), mode='loss')
        torch.manual_seed(1)
        l_online = online(**online.data_preprocessor(copy.deepcopy(batch), True), mode='loss')
    assert not cached.teacher_built
    assert torch.equal(l_cached['loss_cls'], l_online['loss_cls'])
    assert l_online['loss_kd'] > 0
    torch.testing.assert_close(l_cached['loss_kd'], l_online['loss_kd'], rtol=1e-2, atol=1e-4)


def test_stale_cache_is_refused(cache, tmp_path):
    root, ckpt, cache_dir = cache
    cfg, ds_cfg = cached_cfg(root, ckpt, cache_dir)
    with _cwd(root):
        # Another teacher checkpoint (other weights): training refuses the cache.
        other = save_teacher(root, seed=2, name='other_teacher.pth')
        model = MODELS.build(dict(cfg.model, teacher_ckpt=other))
        with pytest.raises(StaleTeacherCacheError, match='other_teacher.pth'):
            model.train()
        # Another pipeline (crop range): the dataset refuses the cache.
        changed = copy.deepcopy(ds_cfg)
        changed.dataset.pipeline[4]['area_range'] = (0.3, 1.0)
        assert changed.dataset.pipeline[4]['type'] == 'MultimodalRandomResizedCrop'
        with pytest.raises(StaleTeacherCacheError, match='pipeline_sha256'):
            DATASETS.build(changed)
        # A student-only change (modality dropout rate) keeps the cache valid.
        dropout = copy.deepcopy(ds_cfg)
        dropout.dataset.pipeline[-2]['p'] = 0.2
        assert dropout.dataset.pipeline[-2]['type'] == 'ModalityDropout'
        DATASETS.build(dropout)
        # Writing into the directory with another teacher is refused too (no mixed shards).
        with pytest.raises(StaleTeacherCacheError):
            write_cache(root, other, out=cache_dir)
    with pytest.raises(FileNotFoundError, match='not a teacher cache'):
        TeacherCacheReader(str(tmp_path))


def test_color_jitter_is_mmaction2s_with_a_recorded_draw():
    """Same RNG state → the same pixels as MMAction2's ColorJitter (which records nothing)."""
    from mmaction.datasets.transforms import ColorJitter
    from mmdistill_plugin.datasets.transforms import MultimodalColorJitter
    rgb = np.random.RandomState(0).randint(0, 256, (3, 8, 8, 3)).astype(np.uint8)  # BGR
    np.random.seed(3)
    ours = MultimodalColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    theirs = ColorJitter(brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1)
    theirs.fn_idx = ours.jitter.fn_idx
    np.random.seed(7)
    out = ours.transform(dict(rgb=rgb.copy()))
    np.random.seed(7)
    ref = np.stack(theirs.transform(dict(imgs=list(rgb[..., ::-1])))['imgs'])[..., ::-1]
    assert np.array_equal(out['rgb'], ref) and not np.array_equal(out['rgb'], rgb)
    draw = out['view']['color_jitter']
    assert set(draw) == {'b', 'c', 's', 'h', 'order'} and sorted(draw['order']) == [0, 1, 2, 3]


def test_random_audio_crop_offset_is_replayed():
    from mmdistill_plugin.datasets.transforms.audio_features import fit_frames
    from mmdistill_plugin.datasets.transforms.view import draw
    spec = np.arange(200, dtype=np.float32).reshape(100, 2)
    rec = {}
    np.random.seed(0)
    a, off = fit_frames(spec, 10, 0., 'random', draw=lambda s: draw(rec, 'audio_offset', s))
    assert rec['view'] == {'audio_offset': off}
    for seed in range(5):  # whatever the RNG state, the replay takes the recorded offset
        np.random.seed(seed)
        rep = {REPLAY_KEY: rec['view']}
        b, off2 = fit_frames(spec, 10, 0., 'random', draw=lambda s: draw(rep, 'audio_offset', s))
        assert off2 == off and np.array_equal(a, b)
