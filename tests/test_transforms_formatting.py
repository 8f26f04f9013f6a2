"""PackMultimodalInputs layout, and a full EPIC-100 pipeline on a temporary frame layout."""
import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import mmdistill_plugin  # noqa: F401
from mmaction.registry import DATASETS, TRANSFORMS
from mmaction.structures import ActionDataSample

DATA = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'
VAL_CSV = DATA / 'epic_kitchens_100_annotations' / 'EPIC_100_validation.csv'
WAV = DATA / 'mmaction2' / 'main' / 'tests' / 'data' / 'test.wav'


def test_pack_layout_and_labels():
    rng = np.random.RandomState(0)
    n, t, h, w, k = 2, 4, 5, 6, 3
    rgb = rng.randint(0, 256, (n * t, h, w, 3)).astype(np.uint8)
    flow = rng.randint(0, 256, (n * t, h, w, 2)).astype(np.uint8)
    boxes = rng.rand(n * t, k, 6).astype(np.float32)
    audio = rng.rand(7, 8).astype(np.float32)
    res = dict(rgb=rgb, flow=flow, boxes=boxes, audio=audio, num_clips=n, clip_len=t,
               modalities=('rgb', 'flow', 'audio', 'boxes'), label=dict(verb=3, noun=7),
               modality_present=dict(rgb=True, flow=True, audio=False, boxes=True),
               modality_mask=dict(rgb=True, flow=False, audio=True, boxes=True),
               sample_idx=4, video_id='P01_11')
    out = TRANSFORMS.build(dict(type='PackMultimodalInputs'))(res)
    x = out['inputs']
    assert x['rgb'].shape == (n, 3, t, h, w) and x['rgb'].dtype == torch.float32
    assert x['flow'].shape == (n, 2, t, h, w)
    assert x['audio'].shape == (n, 1, 7, 8) and x['boxes'].shape == (n, t, k, 6)
    assert float(x['rgb'][1, 2, 3, 4, 5]) == rgb[1 * t + 3, 4, 5, 2]
    assert float(x['flow'][0, 1, 2, 0, 1]) == flow[2, 0, 1, 1]
    assert torch.equal(x['boxes'][1, 0], torch.from_numpy(boxes[t]))
    assert torch.equal(x['audio'][1, 0], torch.from_numpy(audio))
    ds = out['data_samples']
    assert isinstance(ds, ActionDataSample)
    assert ds.gt_labels.verb.tolist() == [3] and ds.gt_labels.noun.dtype == torch.long
    assert ds.modality_present == dict(rgb=True, flow=True, audio=False, boxes=True)
    assert ds.modality_mask == dict(rgb=True, flow=False, audio=False, boxes=True)  # ⊆ present
    assert ds.modalities == ('rgb', 'flow', 'audio', 'boxes')
    assert ds.sample_idx == 4 and ds.video_id == 'P01_11'
    single = TRANSFORMS.build(dict(type='PackMultimodalInputs', modalities=['rgb']))(
        dict(rgb=rgb[:t], label=5, modality_present=dict(rgb=True)))
    assert single['inputs']['rgb'].shape == (1, 3, t, h, w)
    assert single['data_samples'].gt_labels.item.tolist() == [5]
    with pytest.raises(KeyError, match='flow'):
        TRANSFORMS.build(dict(type='PackMultimodalInputs', modalities=['flow']))(
            dict(rgb=rgb, modality_present={}))


@pytest.mark.skipif(not (VAL_CSV.exists() and WAV.exists()), reason='shared data absent')
def test_epic_full_pipeline(tmp_path):
    # first two rows of the real validation file (P01_11, frames 1..113 and 93..147)
    lines = VAL_CSV.read_text().splitlines()[:3]
    ann = tmp_path / 'ann.csv'
    ann.write_text('\n'.join(lines) + '\n')
    root = tmp_path / 'epic'
    rgb_dir = root / 'P01' / 'rgb_frames' / 'P01_11'
    rgb_dir.mkdir(parents=True)
    for i in range(1, 148):
        cv2.imwrite(str(rgb_dir / f'frame_{i:010d}.jpg'), np.full((24, 32, 3), i, np.uint8))
    for c in 'uv':
        d = root / 'P01' / 'flow_frames' / 'P01_11' / c
        d.mkdir(parents=True)
        for i in range(1, 75):
            cv2.imwrite(str(d / f'frame_{i:010d}.jpg'), np.full((24, 32), 100 + i, np.uint8))
    (root / 'P01' / 'audio').mkdir(parents=True)
    os.symlink(WAV, root / 'P01' / 'audio' / 'P01_11.wav')
    pipeline = [
        dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=2, test_mode=True),
        dict(type='LoadRGBFrames'),
        dict(type='LoadFlowFrames'),
        dict(type='LoadAudioLogMel', num_frames=64, n_mels=128),
        dict(type='MultimodalResize', scale=(-1, 20)),
        dict(type='MultimodalRandomResizedCrop', area_range=(0.5, 1.0)),
        dict(type='MultimodalResize', scale=(16, 16), keep_ratio=False),
        dict(type='MultimodalFlip', flip_ratio=0.5),
        dict(type='ModalityDropout', p=0.5),
        dict(type='PackMultimodalInputs'),
    ]
    ds = DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=str(ann), pipeline=pipeline,
                             data_prefix=dict(rgb=str(root), flow=str(root), audio=str(root))))
    assert len(ds) == 2
    np.random.seed(0)
    out = ds[1]
    x, s = out['inputs'], out['data_samples']
    assert x['rgb'].shape == (2, 3, 4, 16, 16) and x['flow'].shape == (2, 2, 4, 16, 16)
    assert x['audio'].shape == (2, 1, 64, 128)
    assert s.gt_labels.verb.tolist() == [1] and s.gt_labels.noun.tolist() == [2]
    assert s.modality_present == dict(rgb=True, flow=True, audio=True)
    assert any(s.modality_mask.values())
    inds = np.asarray(s.frame_inds)
    assert inds.min() >= 93 and inds.max() <= 147
    # frames were written with value == index (nearly, JPEG): the packed rgb follows frame_inds
    got = x['rgb'][:, 0, :, 8, 8].reshape(-1).numpy()
    np.testing.assert_allclose(got, inds, atol=3)
    flow_inds = (inds - 1) // 2 + 1
    gotf = x['flow'][:, 1, :, 8, 8].reshape(-1).numpy()  # v channel is never flipped
    np.testing.assert_allclose(gotf, 100 + flow_inds, atol=3)
