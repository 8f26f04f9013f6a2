"""Depth frames, stacked flow / RGBDiff / one RGB frame per segment, mixed and aligned
sampling, and 2D-network input layout."""
import cv2
import numpy as np
import pytest
import torch

from mmaction.registry import MODELS, TRANSFORMS


def test_frames_to_segments_stack_diff_center():
    n, L, h, w = 2, 6, 3, 4
    rgb = np.arange(n * L * h * w * 3, dtype=np.uint8).reshape(n * L, h, w, 3) % 200
    flow = np.random.default_rng(0).integers(0, 255, (n * L, h, w, 2), dtype=np.uint8)
    t = TRANSFORMS.build(dict(type='FramesToSegments', ops=dict(
        rgb='center', flow=dict(stack=5), rgb_diff=dict(diff=5, source='rgb'))))
    r = t(dict(rgb=rgb.copy(), flow=flow, num_clips=n, clip_len=L))
    assert r['clip_len'] == 1
    assert r['flow'].shape == (n, h, w, 10) and r['rgb_diff'].shape == (n, h, w, 15)
    assert np.array_equal(r['rgb'], rgb.reshape(n, L, h, w, 3)[:, 3])
    # flow channels x1, y1, x2, y2, ... of the segment's first 5 frames
    assert np.array_equal(r['flow'][1, ..., 2 * 4 + 1], flow[L + 4, ..., 1])
    # RGBDiff: difference k = frame k+1 − frame k of the original (un-centred) rgb
    seg = rgb.reshape(n, L, h, w, 3).astype(np.float32)
    assert np.array_equal(r['rgb_diff'][0, ..., 3 * 2:3 * 3], seg[0, 3] - seg[0, 2])
    with pytest.raises(ValueError, match='needs 6 frames'):
        TRANSFORMS.build(dict(type='FramesToSegments', ops=dict(rgb_diff=dict(
            diff=5, source='rgb'))))(dict(rgb=rgb[:8], num_clips=2, clip_len=4))


def test_frames_to_segments_as_one_clip_for_3d_networks():
    # 4 sampled positions × 2 consecutive frames: per-frame RGBDiff for a 3D CNN
    n, h, w = 4, 3, 5
    rgb = np.random.default_rng(1).integers(0, 255, (n * 2, h, w, 3), dtype=np.uint8)
    flow = np.random.default_rng(2).integers(0, 255, (n * 2, h, w, 2), dtype=np.uint8)
    t = TRANSFORMS.build(dict(type='FramesToSegments', as_clip=True, ops=dict(
        rgb='center', flow=dict(stack=1), rgb_diff=dict(diff=1, source='rgb'))))
    r = t(dict(rgb=rgb.copy(), flow=flow, num_clips=n, clip_len=2, label=0))
    assert (r['num_clips'], r['clip_len']) == (1, n)
    packed = TRANSFORMS.build(dict(type='PackMultimodalInputs', modalities=(
        'rgb', 'flow', 'rgb_diff')))(r)['inputs']
    assert packed['rgb'].shape == (1, 3, n, h, w) and packed['rgb_diff'].shape == (1, 3, n, h, w)
    assert packed['flow'].shape == (1, 2, n, h, w)
    # clip frame k: the second frame of pair k, flow k of the pair, and their difference
    k = 2
    assert np.array_equal(packed['rgb'][0, :, k].numpy(), rgb[2 * k + 1].transpose(2, 0, 1))
    assert np.array_equal(packed['flow'][0, :, k].numpy(), flow[2 * k].transpose(2, 0, 1))
    diff = rgb[2 * k + 1].astype(np.float32) - rgb[2 * k].astype(np.float32)
    assert np.array_equal(packed['rgb_diff'][0, :, k].numpy(), diff.transpose(2, 0, 1))


def test_expand_consecutive_and_mixed_sampling():
    t = TRANSFORMS.build(dict(type='ExpandConsecutive', num=3))
    r = t(dict(frame_inds=np.array([1, 5, 9]), start_index=1, total_frames=10))
    assert r['frame_inds'].tolist() == [1, 2, 3, 5, 6, 7, 9, 10, 10]
    assert r['num_clips'] == 3 and r['clip_len'] == 3
    mix = TRANSFORMS.build(dict(type='RandomChoiceSample', probs=[0.5, 0.5], samplers=[
        dict(type='SampleFrames', clip_len=1, num_clips=4),
        dict(type='DenseSampleFrames', clip_len=4, frame_interval=2, num_clips=1)]))
    np.random.seed(0)
    picks = [mix(dict(total_frames=40, start_index=1))['sampler'] for _ in range(400)]
    assert 0.4 < np.mean(picks) < 0.6
    with pytest.raises(ValueError, match='probs'):
        TRANSFORMS.build(dict(type='RandomChoiceSample', probs=[0.7, 0.7], samplers=[
            dict(type='SampleFrames', clip_len=1), dict(type='SampleFrames', clip_len=1)]))


def test_aligned_sample_offsets_the_longer_modality():
    class Record:
        def __call__(self, results):
            self.seen = np.asarray(results['frame_inds']).copy()
            return results
    rec = Record()
    TRANSFORMS.register_module('RecordInds', module=lambda: rec, force=True)
    sample = TRANSFORMS.build(dict(
        type='AlignedSample', short_key='flow_total_frames',
        sampler=dict(type='SampleFrames', clip_len=1, num_clips=5, test_mode=True)))
    load = TRANSFORMS.build(dict(type='WithFrameOffset', transform=dict(type='RecordInds')))
    offsets = set()
    np.random.seed(0)
    for _ in range(50):
        r = sample(dict(total_frames=21, flow_total_frames=20, start_index=1))
        assert r['total_frames'] == 21 and r['frame_inds'].max() <= 20  # drawn over n = 20
        inds = r['frame_inds'].copy()
        r = load(r)
        assert np.array_equal(rec.seen, inds + r['frame_offset'])
        assert np.array_equal(r['frame_inds'], inds)  # restored for the next loader
        offsets.add(r['frame_offset'])
    assert offsets == {0, 1}  # δ ~ U{0, …, N − n}


def test_load_depth_frames(tmp_path):
    for i in range(1, 4):
        cv2.imwrite(str(tmp_path / f'{i:05d}.png'), np.full((4, 5), i * 10, np.uint16) * 100)
    t = TRANSFORMS.build(dict(type='LoadDepthFrames'))
    r = t(dict(frame_inds=np.array([1, 3, 4]), depth_dir=str(tmp_path), total_frames=3))
    assert r['depth'].shape == (3, 4, 5, 1) and r['depth'].dtype == np.uint16
    assert r['depth'][:, 0, 0, 0].tolist() == [1000, 3000, 3000]  # 4 clipped to the last
    assert r['modality_present']['depth']
    with pytest.raises(FileNotFoundError, match='00001.png'):
        t(dict(frame_inds=np.array([1]), depth_dir=str(tmp_path / 'none')))
    r = TRANSFORMS.build(dict(type='LoadDepthFrames', allow_missing=True, missing_shape=(2, 2)))(
        dict(frame_inds=np.array([1]), depth_dir=str(tmp_path / 'none')))
    assert r['depth'].shape == (1, 2, 2, 1) and not r['modality_present']['depth']


def test_frames_as_images_for_2d_networks():
    pre = MODELS.build(dict(type='FramesAsImages', preprocessor=dict(
        type='ActionDataPreprocessor', mean=[1.] * 10, std=[2.] * 10, format_shape='NCHW')))
    x = torch.arange(8 * 10 * 1 * 2 * 2, dtype=torch.float).view(8, 10, 1, 2, 2)
    out = pre(dict(inputs=[x, x + 1], data_samples=None))['inputs']
    assert out.shape == (2, 8, 10, 2, 2)
    torch.testing.assert_close(out[1, 3], (x[3, :, 0] + 1 - 1) / 2)
