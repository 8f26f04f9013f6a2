"""DMCL's data side as published (dmcl.txt §4.1-4.2): the shifted-centre crop, the ten fixed
random test clips, the dataset lists of every split, and the mean of the NTU120-mini runs."""
import json
import sys
import zlib

import cv2
import numpy as np
import pytest
from conftest import REPO
from mmengine.config import Config

from mmaction.registry import DATASETS, MODELS, TRANSFORMS

sys.path.insert(0, str(REPO / 'tools' / 'data'))
sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
import dmcl_lists  # noqa: E402
import mean_of_runs  # noqa: E402


def _frames(h=40, w=60, t=2):
    rgb = np.arange(t * h * w * 3, dtype=np.int64).reshape(t, h, w, 3) % 251
    flow = (np.arange(t * h * w * 2).reshape(t, h, w, 2) * 7) % 256
    boxes = np.zeros((t, 1, 6), np.float32)
    boxes[:, 0] = (0.25, 0.25, 0.75, 0.75, 1, 1)
    return dict(rgb=rgb.astype(np.uint8), flow=flow.astype(np.uint8), boxes=boxes)


# ------------------------------------------------------------------ shifted-centre crop
@pytest.mark.parametrize('shift, bbox', [([3, -2], [18, 8, 48, 28]),   # centre (15, 10) moved
                                         ([0, 0], [15, 10, 45, 30]),    # the centre crop
                                         ([20, 20], [30, 20, 60, 40]),  # clipped to the frame
                                         ([-99, -1], [0, 9, 30, 29])])
def test_shifted_center_crop_replays_exact_boxes_on_every_modality(shift, bbox):
    s = _frames()
    orig = {k: s[k].copy() for k in ('rgb', 'flow')}
    s['replay_view'] = dict(crop_shift=shift)
    out = TRANSFORMS.build(dict(type='MultimodalShiftedCenterCrop', crop_size=(30, 20)))(s)
    left, top, right, bottom = bbox
    assert list(out['crop_bbox']) == bbox and out['img_shape'] == (20, 30)
    np.testing.assert_array_equal(out['rgb'], orig['rgb'][:, top:bottom, left:right])
    np.testing.assert_array_equal(out['flow'], orig['flow'][:, top:bottom, left:right])
    # the box (15..45 × 10..30 px) renormalised to the crop
    exp = np.clip([(15 - left) / 30, (10 - top) / 20, (45 - left) / 30, (30 - top) / 20], 0, 1)
    np.testing.assert_allclose(out['boxes'][0, 0, :4], exp, atol=1e-6)
    assert out['view']['crop_shift'] == shift


def test_shifted_center_crop_draws_the_released_codes_shift():
    """Half of the crops centred, the others shifted by U{-16..16} px per axis (released code);
    the draw is recorded so a teacher cache replays it."""
    crop = TRANSFORMS.build(dict(type='MultimodalShiftedCenterCrop', crop_size=224))
    np.random.seed(0)
    shifts = []
    for _ in range(400):
        out = crop(dict(rgb=np.zeros((1, 256, 256, 3), np.uint8)))
        shifts.append(out['view']['crop_shift'])
        dx, dy = shifts[-1]
        assert list(out['crop_bbox']) == [16 + dx, 16 + dy, 240 + dx, 240 + dy]
    shifts = np.array(shifts)
    centred = (shifts == 0).all(1).mean()
    assert 0.42 < centred < 0.58                     # 0.5 + P(U draws (0, 0)) ≈ 0.5005
    assert shifts.min() == -16 and shifts.max() == 16
    with pytest.raises(ValueError, match='shift_prob'):
        TRANSFORMS.build(dict(type='MultimodalShiftedCenterCrop', shift_prob=1.5))


# ------------------------------------------------------------------ ten fixed random test clips
def test_seeded_uniform_sample_is_fixed_per_video_and_random_within_segments():
    sample = TRANSFORMS.build(dict(type='SeededUniformSample', clip_len=8, num_clips=10))
    np.random.seed(123)
    state = np.random.get_state()[1].copy()
    a = sample(dict(video_id='a01_s01_v01_e00', total_frames=17, start_index=1))
    assert np.array_equal(np.random.get_state()[1], state)  # the global RNG is untouched
    np.random.seed(999)
    b = sample(dict(video_id='a01_s01_v01_e00', total_frames=17, start_index=1))
    c = sample(dict(video_id='a01_s01_v01_e01', total_frames=17, start_index=1))
    assert np.array_equal(a['frame_inds'], b['frame_inds'])  # same video: same clips
    assert not np.array_equal(a['frame_inds'], c['frame_inds'])
    assert (a['num_clips'], a['clip_len'], a['frame_inds'].shape) == (10, 8, (80, ))
    # 17 frames, 8 segments of (17 - 1) / 8 = 2 frames: clip frame i is in [2i, 2i + 2] + 1
    clips = a['frame_inds'].reshape(10, 8) - 1
    lo = np.arange(8) * 2
    assert ((clips >= lo) & (clips <= lo + 2)).all()
    assert len({tuple(c) for c in clips}) > 1              # the ten clips differ
    # the draw: MMAction2's training UniformSample from np.random.seed(crc32(video id))
    np.random.seed(zlib.crc32(b'a01_s01_v01_e00'))
    exp = [np.random.randint(round(2 * i), round(2 * (i + 1)) + 1) for _ in range(10)
           for i in range(8)]
    assert (a['frame_inds'] - 1).tolist() == exp


def test_dmcl_test_pipeline_packs_ten_clips_of_eight_frames(tmp_path):
    """The paper's test protocol end to end on written frames: 10 × 8 frames, 224² centre."""
    cfg = Config.fromfile(str(REPO / 'configs/dmcl/dmcl_nwucla.py'))
    name = 'view_3/a01_s01_e00'
    for m in ('rgb', 'depth', 'flow'):
        (tmp_path / m / name).mkdir(parents=True)
    for i in range(1, 13):
        cv2.imwrite(str(tmp_path / 'rgb' / name / f'img_{i:05d}.jpg'),
                    np.full((48, 64, 3), i * 10, np.uint8))
        cv2.imwrite(str(tmp_path / 'depth' / name / f'{i:05d}.png'),
                    np.full((48, 64), i, np.uint8))
        if i < 12:
            for axis in 'xy':
                cv2.imwrite(str(tmp_path / 'flow' / name / f'{axis}_{i:05d}.jpg'),
                            np.full((48, 64), 128, np.uint8))
    (tmp_path / 'test.txt').write_text(f'{name} 12 0\n')
    ds_cfg = dict(cfg.test_dataloader.dataset, ann_file=str(tmp_path / 'test.txt'),
                  data_prefix={m: str(tmp_path / m) for m in ('rgb', 'depth', 'flow')})
    packed = DATASETS.build(ds_cfg)[0]
    assert packed['inputs']['rgb'].shape == (10, 3, 8, 224, 224)
    assert packed['inputs']['depth'].shape == (10, 1, 8, 224, 224)
    assert packed['inputs']['flow'].shape == (10, 2, 8, 224, 224)
    train = [t['type'] for t in cfg.train_pipeline]
    assert 'MultimodalShiftedCenterCrop' in train and 'MultimodalRandomResizedCrop' not in train


def test_multi_modality_networks_refuses_average_clips_prob():
    cfg = Config.fromfile(str(REPO / 'configs/dmcl/toy/dmcl_sthv2.py'))
    model = cfg.model.to_dict()
    assert {m['cls_head']['average_clips'] for m in model['members'].values()} == {'score'}
    model['members']['flow']['cls_head']['average_clips'] = 'prob'
    with pytest.raises(ValueError, match=r"\['flow'\].*average_clips='prob'"):
        MODELS.build(model)


# ------------------------------------------------------------------ dataset lists
def _touch(root, modality, name, n, pattern):
    d = root / modality / name
    d.mkdir(parents=True, exist_ok=True)
    for i in range(1, n + 1):
        (d / pattern.format(i)).write_bytes(b'')


def _fake_dataset(root, names, frames):
    """Frame folders named as the public datasets' (empty files: only names are read)."""
    for name in names:
        n = frames(name)
        _touch(root, 'rgb', name, n, 'img_{:05d}.jpg')
        _touch(root, 'depth', name, n - 1, '{:05d}.png')     # depth one frame shorter
        _touch(root, 'flow', name, n - 1, 'x_{:05d}.jpg')    # flow of n frames: n - 1
        _touch(root, 'flow', name, n - 1, 'y_{:05d}.jpg')


def _read(path):
    return [line.split() for line in path.read_text().splitlines()]


def test_ntu_lists_cross_subject_ntu60_and_three_half_subsets(tmp_path):
    # subjects 1, 2 train; 3 test; 40 actions per class pair × ... kept small
    names = [f'S001C00{c}P00{p}R001A{a:03d}' for p in (1, 2, 3) for c in (1, 2, 3)
             for a in (1, 2, 61)]
    _fake_dataset(tmp_path, names, lambda n: 10 + int(n[-3:]) % 7)
    (tmp_path / 'rgb' / 'S001C001P001R001A120_broken').mkdir()       # not a dataset name
    (tmp_path / 'rgb' / 'S001C001P002R002A002').mkdir()              # no frames at all
    assert dmcl_lists.main(['ntu120', '--data-root', str(tmp_path), '--val-fraction', '0.4']) == 0
    out = tmp_path / 'lists'
    train, val, test = (_read(out / f'ntu120_xsub_{s}.txt') for s in ('train', 'val', 'test'))
    # 12 training videos per... 2 subjects × 3 cameras × 3 actions = 18; ⌊18 / 120 × 0.4⌋ = 0
    assert len(train) == 18 and val == [] and len(test) == 9
    assert {n[:4] + n[8:12] for n, _, _ in test} == {'S001P003'}
    line = next(x for x in train if x[0] == 'S001C001P001R001A061')
    assert line[1:] == ['14', '60']          # min(15 rgb, 14 depth, 14 + 1 flow) = 14; A061 → 60
    skipped = (out / 'ntu120_skipped.txt').read_text()
    assert 'S001C001P002R002A002' in skipped and 'broken' not in skipped
    # NTU120-mini: ⌊18 / 2 / 120⌋ = 0 → nothing; with 3 classes only, see half_per_class below
    mini = [_read(out / f'ntu120_xsub_mini{k}_train.txt') for k in (1, 2, 3)]
    assert all(m == [] for m in mini)
    assert dmcl_lists.main(['ntu60', '--data-root', str(tmp_path), '--out-dir',
                            str(out)]) == 0
    t60 = _read(out / 'ntu60_xsub_train.txt')
    assert len(t60) == 12 and all(int(lab) < 60 for _, _, lab in t60)
    # the lists load in the dataset the configs use
    ds = DATASETS.build(dict(type='MultimodalFrameListDataset', ann_file=str(
        out / 'ntu60_xsub_test.txt'), data_prefix={m: str(tmp_path / m) for m in
                                                   ('rgb', 'depth', 'flow')}))
    assert len(ds) == 6 and ds.get_data_info(0)['flow_total_frames'] == \
        ds.get_data_info(0)['total_frames'] - 1


def test_half_per_class_and_hold_out_counts_and_seeds():
    vids = [dmcl_lists.Video(f'v{c}_{i}', c, 1) for c in range(3) for i in range(10 + 2 * c)]
    subsets = [dmcl_lists.half_per_class(vids, k, 3) for k in (1, 2, 3)]
    # ⌊36 / 2 / 3⌋ = 6 of every class, without replacement, a different draw per version
    for sub in subsets:
        assert [sum(v.label == c for v in sub) for c in range(3)] == [6, 6, 6]
        assert len({v.name for v in sub}) == 18
    assert len({tuple(v.name for v in s) for s in subsets}) == 3
    assert [v.name for v in dmcl_lists.half_per_class(vids, 2, 3)] == \
        [v.name for v in subsets[1]]
    rest, val = dmcl_lists.hold_out(vids, 0.25, 0, 3)       # ⌊36 / 3 × 0.25⌋ = 3 per class
    assert [sum(v.label == c for v in val) for c in range(3)] == [3, 3, 3]
    assert len(rest) == 27 and not {v.name for v in rest} & {v.name for v in val}


def test_nwucla_and_uwa3dii_lists_of_every_view_split(tmp_path):
    nw = [f'view_{v}/a{a:02d}_s01_e00' for v in (1, 2, 3) for a in (1, 8, 12, 7)]
    _fake_dataset(tmp_path / 'nwucla', nw, lambda n: 9)
    assert dmcl_lists.main(['nwucla', '--data-root', str(tmp_path / 'nwucla'),
                            '--val-fraction', '0']) == 0
    out = tmp_path / 'nwucla' / 'lists'
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f'nwucla_v{s}_{k}.txt' for s in ('12', '13', '23') for k in ('train', 'val', 'test'))
    test = _read(out / 'nwucla_v12_test.txt')
    # view 3 only; a07 is not one of the 10 actions; a08 → 6, a12 → 9
    assert test == [['view_3/a01_s01_e00', '8', '0'], ['view_3/a08_s01_e00', '8', '6'],
                    ['view_3/a12_s01_e00', '8', '9']]
    assert len(_read(out / 'nwucla_v23_train.txt')) == 6
    uwa = [f'a{a:02d}_s0{s}_v0{v}_e00' for a in (1, 30) for s in (1, 2) for v in (1, 2, 3, 4)]
    _fake_dataset(tmp_path / 'uwa', uwa, lambda n: 5)
    assert dmcl_lists.main(['uwa3dii', '--data-root', str(tmp_path / 'uwa'),
                            '--val-fraction', '0.5']) == 0
    out = tmp_path / 'uwa' / 'lists'
    pairs = ('12', '13', '14', '23', '24', '34')
    assert len(list(out.glob('uwa3dii_v*_test.txt'))) == 6
    for p in pairs:
        train, val, test = (_read(out / f'uwa3dii_v{p}_{k}.txt')
                            for k in ('train', 'val', 'test'))
        # 8 training videos of views p, ⌊8 / 30 × 0.5⌋ = 0 held out; 8 test videos
        assert len(train) == 8 and val == [] and len(test) == 8
        views = {f'v0{v}' for v in '1234' if v not in p}
        assert {n.split('_')[2] for n, _, _ in test} == views
        assert {lab for _, _, lab in train} == {'0', '29'}


def test_lists_strict_names_the_incomplete_video(tmp_path):
    _fake_dataset(tmp_path, ['a01_s01_v01_e00'], lambda n: 5)
    (tmp_path / 'rgb' / 'a02_s01_v01_e00').mkdir()
    _touch(tmp_path, 'rgb', 'a02_s01_v01_e00', 3, 'img_{:05d}.jpg')
    with pytest.raises(SystemExit, match=r'a02_s01_v01_e00: no frames matching .*depth'):
        dmcl_lists.main(['uwa3dii', '--data-root', str(tmp_path), '--strict'])


# ------------------------------------------------------------------ NTU120-mini: mean of 3 runs
def test_mean_of_runs_reads_test_metrics_of_work_dirs(tmp_path, capsys):
    for k, acc in enumerate((0.80, 0.82, 0.87), 1):
        d = tmp_path / f'mini{k}' / f'20250101_00000{k}'
        d.mkdir(parents=True)
        (d / f'20250101_00000{k}.json').write_text(json.dumps(
            dict(rgb_top1=acc, fused_top1=0.9, extra=k, note='x')))
    assert mean_of_runs.main([str(tmp_path / f'mini{k}') for k in (1, 2, 3)] +
                             ['--keys', 'rgb_top1', 'fused_top1']) == 0
    out = capsys.readouterr().out
    # mean 0.83, sample sd sqrt(((-.03)² + (-.01)² + .04²) / 2) = sqrt(0.0013) = 0.0361
    assert 'rgb_top1: 83.00 ± 3.61 (n=3)' in out and 'fused_top1: 90.00 ± 0.00 (n=3)' in out
    with pytest.raises(SystemExit, match='no test metrics'):
        mean_of_runs.main([str(tmp_path)])


def test_every_view_split_has_a_config():
    for split in ('nwucla_v12', 'nwucla_v13', 'nwucla_v23', 'uwa3dii_v12', 'uwa3dii_v13',
                  'uwa3dii_v14', 'uwa3dii_v23', 'uwa3dii_v24', 'uwa3dii_v34', 'ntu120_xsub',
                  'ntu60_xsub', 'ntu120_xsub_mini1', 'ntu120_xsub_mini2', 'ntu120_xsub_mini3'):
        ds = split.split('_')[0]
        name = {'nwucla_v12': 'dmcl_nwucla', 'uwa3dii_v12': 'dmcl_uwa3dii',
                'ntu120_xsub': 'dmcl_ntu120', 'ntu60_xsub': 'dmcl_ntu60'}.get(
                    split, f'dmcl_{split.replace("_xsub", "")}')
        cfg = Config.fromfile(str(REPO / f'configs/dmcl/{name}.py'))
        assert cfg.train_dataloader.dataset.ann_file.endswith(f'lists/{split}_train.txt')
        test_split = split.rsplit('_mini', 1)[0]
        assert cfg.test_dataloader.dataset.ann_file.endswith(f'lists/{test_split}_test.txt')
        assert cfg.val_dataloader.dataset.ann_file.endswith(f'lists/{test_split}_val.txt')
        classes = dict(nwucla=10, uwa3dii=30, ntu120=120, ntu60=60)[ds]
        assert {m.cls_head.num_classes for m in cfg.model.members.values()} == {classes}
