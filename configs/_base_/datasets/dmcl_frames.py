# RGB + depth + flow frame folders (MultimodalFrameListDataset) for DMCL (dmcl.txt §4):
# training: the video split into 8 equal parts, one random frame from each (UniformSample), a
# 224² crop around a randomly shifted centre, random horizontal flip, colour distortion (same
# crop / flip for every modality); testing: 10 clips of 8 frames each sampled at random, centre
# crop, no augmentation, clip predictions averaged.
clip_len = 8
num_test_clips = 10
_load = [dict(type='LoadRGBFrames'), dict(type='LoadDepthFrames'), dict(type='LoadFlowFrames')]
train_pipeline = [
    dict(type='UniformSample', clip_len=clip_len, num_clips=1),
    *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalRandomResizedCrop', area_range=(0.5, 1.0)),
    dict(type='MultimodalResize', scale=(224, 224), keep_ratio=False),
    dict(type='MultimodalFlip', flip_ratio=0.5),
    dict(type='MultimodalColorJitter'),
    dict(type='PackMultimodalInputs'),
]
test_pipeline = [
    # ten clips of 8 frames drawn at random per segment (seeded by the runner)
    dict(type='UniformSample', clip_len=clip_len, num_clips=num_test_clips),
    *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalCenterCrop', crop_size=224),
    dict(type='PackMultimodalInputs'),
]


# the method configs add ann_file, data_prefix, pipeline and test_mode
frame_dataset = dict(type='MultimodalFrameListDataset', modalities=('rgb', 'depth', 'flow'))


train_dataloader = dict(batch_size=8, num_workers=8, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=4, num_workers=8, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiModalityMetric', fusion='logits', topk=(1, 5))
test_evaluator = val_evaluator
