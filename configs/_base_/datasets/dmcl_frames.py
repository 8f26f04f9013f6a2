# RGB + depth + flow frame folders (MultimodalFrameListDataset) for DMCL (dmcl.txt §4.2), the
# lists written by tools/data/dmcl_lists.py (<data_root>/lists/<split>_{train,val,test}.txt).
# Every random draw is one per sample and the same for every modality (crop, flip).
clip_len = 8
num_test_clips = 10
crop_size = 224
_load = [dict(type='LoadRGBFrames'), dict(type='LoadDepthFrames'), dict(type='LoadFlowFrames')]
train_pipeline = [
    # "a video is split into eight equal parts and we randomly sample a frame from each of them"
    dict(type='UniformSample', clip_len=clip_len, num_clips=1),
    *_load,
    # frames resized to 256×256 (aspect not kept): the paper does not say; the authors'
    # released code does this before every crop
    dict(type='MultimodalResize', scale=(256, 256), keep_ratio=False),
    # "a crop of dimension [224,224,3], cropped around a randomly shifted center": released
    # code: with probability 0.5 the centre moves by U(-16, 16) px per axis, else the centre
    dict(type='MultimodalShiftedCenterCrop', crop_size=crop_size, max_shift=16, shift_prob=0.5),
    dict(type='MultimodalFlip', flip_ratio=0.5),  # "random horizontal flipping"
    # "random color distortions" (RGB only); deviation: MMAction2's ColorJitter on every clip,
    # the released code applies Inception-style distortions to half of the clips
    # (configs/dmcl/README.md)
    dict(type='MultimodalColorJitter'),
    dict(type='PackMultimodalInputs'),
]
test_pipeline = [
    # "ten clips per video, each clip consisting of eight frames randomly sampled": each clip
    # drawn as in training, fixed per video (the released code samples them once and stores
    # them); clip logits averaged ("the average of the ten clip predictions")
    dict(type='SeededUniformSample', clip_len=clip_len, num_clips=num_test_clips, seed=0),
    *_load,
    dict(type='MultimodalResize', scale=(256, 256), keep_ratio=False),
    dict(type='MultimodalCenterCrop', crop_size=crop_size),  # "centered ... no augmentation"
    dict(type='PackMultimodalInputs'),
]


# the method configs add ann_file, data_prefix, pipeline and test_mode
frame_dataset = dict(type='MultimodalFrameListDataset', modalities=('rgb', 'depth', 'flow'))


# batch 8: the authors' released code (--batch_sz 8, one GPU); the paper gives none
train_dataloader = dict(batch_size=8, num_workers=8, persistent_workers=True,
                        sampler=dict(type='DefaultSampler', shuffle=True))
val_dataloader = dict(batch_size=4, num_workers=8, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiModalityMetric', fusion='logits', topk=(1, 5))
test_evaluator = val_evaluator
