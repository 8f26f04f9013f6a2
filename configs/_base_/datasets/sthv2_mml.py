# SSv2 with RGB, stacked flow and RGBDiff for MML (mutual-modality-learning.txt §2.3, §3.1):
# per segment 6 consecutive frames (flow: the first 5 x/y pairs, RGBDiff: 5 differences, RGB:
# the centre frame); training mixes uniform (one random position per 8 equal parts) and dense
# sampling (8 positions at a fixed stride from a random start) with probability 0.5 each; flow
# (N − 1 frames) is sampled first and the RGB frames are offset by δ ~ U{0..1} (§2.3); testing:
# one uniform sampling, one 224² centre crop.
data_root = 'data/sthv2'
ann_root = f'{data_root}/annotations'
_segment = dict(type='ExpandConsecutive', num=6, total_key='flow_total_frames')
_to_segments = dict(type='FramesToSegments', ops=dict(
    rgb='center', flow=dict(stack=5), rgb_diff=dict(diff=5, source='rgb')))
_load = [dict(type='LoadFlowFrames'), dict(type='WithFrameOffset', transform=dict(
    type='LoadRGBFrames'))]
train_pipeline = [
    dict(type='AlignedSample', short_key='flow_total_frames', sampler=dict(
        type='RandomChoiceSample', probs=[0.5, 0.5], samplers=[
            dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8),
            dict(type='DenseSampleFrames', clip_len=8, frame_interval=2, num_clips=1)])),
    _segment, *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalRandomResizedCrop', area_range=(0.3, 1.0)),
    dict(type='MultimodalResize', scale=(224, 224), keep_ratio=False),
    dict(type='MultimodalFlip', flip_ratio=0.0),  # SSv2 has left/right classes: no flip
    _to_segments,
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow', 'rgb_diff')),
]
test_pipeline = [
    dict(type='AlignedSample', short_key='flow_total_frames', test_mode=True, sampler=dict(
        type='SampleFrames', clip_len=1, frame_interval=1, num_clips=8, test_mode=True)),
    _segment, *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalCenterCrop', crop_size=224),
    _to_segments,
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow', 'rgb_diff')),
]
_dataset = dict(type='SomethingSomethingV2Dataset', labels_file=f'{ann_root}/labels.json',
                data_prefix=dict(video=f'{data_root}/videos', flow=f'{data_root}/flow'),
                modalities=('rgb', 'flow'), rgb_source='video', video_ext='.webm')
train_dataloader = dict(batch_size=8, num_workers=8, persistent_workers=True,  # 8 GPUs: 64
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(_dataset, ann_file=f'{ann_root}/train.json',
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=8, num_workers=8, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(_dataset, ann_file=f'{ann_root}/validation.json',
                                   pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiModalityMetric', fusion='logits', topk=(1, 5))
test_evaluator = val_evaluator
