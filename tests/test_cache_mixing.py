"""Mixup / CutMix in the dataset with the pair and λ recorded: teacher and student read one mixed
input, and a teacher cache replays it (the teacher's stored logits are its output on it)."""
import copy

import numpy as np
import pytest
import torch
from conftest import link_toy
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import LabelData
from test_teacher_cache import STUDENT, _cwd, _tool, save_teacher

from mmaction.registry import DATASETS, MODELS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.datasets.mixed_pairs import mix_packed
from mmdistill_plugin.utils.teacher_cache import TeacherCacheReader


def packed(rgb_value, flow_value, label):
    ds = ActionDataSample()
    ds.gt_labels = LabelData(item=torch.tensor([label]))
    return dict(inputs=dict(rgb=torch.full((1, 3, 2, 4, 4), float(rgb_value)),
                            flow=torch.full((1, 2, 2, 2, 2), float(flow_value)),
                            audio=torch.full((1, 1, 3, 3), float(rgb_value))),
                data_samples=ds)


def test_mixup_mixes_every_visual_modality_and_the_labels():
    out = mix_packed(packed(0, 100, 1), packed(10, 200, 2), 0.3, 'mixup', None, 4)
    assert torch.allclose(out['inputs']['rgb'], torch.full((1, 3, 2, 4, 4), 7.0))  # .3·0 + .7·10
    assert torch.allclose(out['inputs']['flow'], torch.full((1, 2, 2, 2, 2), 170.0))
    assert torch.equal(out['inputs']['audio'], torch.zeros(1, 1, 3, 3))  # not visual: a's
    assert out['data_samples'].gt_labels.item.tolist() == pytest.approx([0, 0.3, 0.7, 0])


def test_cutmix_pastes_one_relative_box_into_every_modality():
    out = mix_packed(packed(0, 100, 1), packed(10, 200, 2), 0.9, 'cutmix', [0, 0, 0.5, 0.5], 4)
    rgb, flow = out['inputs']['rgb'], out['inputs']['flow']
    assert (rgb[..., :2, :2] == 10).all() and rgb.sum() == 10 * 3 * 2 * 4  # 2×2 of 4×4 pasted
    assert (flow[..., :1, :1] == 200).all() and (flow[..., 1:, :] == 100).all()
    # λ' = 1 − 4 / 16 = 0.75 from the box, not the drawn 0.9
    assert out['data_samples'].gt_labels.item.tolist() == pytest.approx([0, 0.75, 0.25, 0])
    assert out['data_samples'].metainfo['mix_lam'] == 0.75


@pytest.fixture(scope='module')
def mixed_cache(tmp_path_factory, toy_data):
    root = tmp_path_factory.mktemp('cache_mixing')
    link_toy(root, toy_data)
    ckpt = save_teacher(root, seed=2)
    cfg_path = root / 'student_mixup.py'
    cfg_path.write_text(
        f"_base_ = ['{STUDENT}']\n"
        "train_dataloader = dict(dataset=dict(_delete_=True, type='MixedPairDataset', "
        "mode='mixup', alpha=1.0, num_classes=dict(verb=4, noun=4), "
        "dataset={{_base_.train_dataloader.dataset}}))\n")
    with _cwd(root):
        _tool().main([str(cfg_path), '--views', '2', '--out', 'mixcache', '--shard-size', '8',
                      '--num-workers', '0', '--batch-size', '4',
                      '--cfg-options', f'model.teacher_ckpt={ckpt}'])
    return root, ckpt, str(root / 'mixcache')


def test_cached_mixed_view_replays_the_pair_and_the_teachers_target(mixed_cache):
    root, ckpt, cache_dir = mixed_cache
    reader = TeacherCacheReader(cache_dir)
    assert reader.meta['mix'] == dict(mode='mixup', alpha=1.0, prob=1.0)
    cfg = Config.fromfile(STUDENT)
    ds_cfg = dict(type='TeacherCacheDataset', cache=cache_dir,
                  dataset=copy.deepcopy(cfg.train_dataloader.dataset))
    with _cwd(root):
        dataset = DATASETS.build(ds_cfg)
        model = MODELS.build(dict(cfg.model, teacher_ckpt=ckpt, teacher_cache=None)).eval()
        model.build_teacher()
        for idx, k in ((1, 0), (6, 1)):
            stored_view, stored = reader.get(idx, k)
            mix = stored_view['draws']['mix']
            assert 0 <= mix['partner'] < 8 and 0 < mix['lam'] < 1 and mix['mode'] == 'mixup'
            sample = dataset.prepare_data(idx, view=k)
            soft = sample['data_samples'].gt_labels
            for head in ('verb', 'noun'):  # soft labels: λ on a's class, 1 − λ on b's
                assert soft.get(head).sum().item() == pytest.approx(1.0)
                assert soft.get(head).max().item() >= max(mix['lam'], 1 - mix['lam']) - 1e-6
            data = model.data_preprocessor(pseudo_collate([sample]), False)
            online = model.teacher_logits(data['inputs'], data['data_samples'])
            for h in ('verb', 'noun'):  # the teacher on the replayed mixed input
                np.testing.assert_allclose(online[h][0].numpy(), stored[h].astype(np.float32),
                                           rtol=2e-3, atol=2e-3)
