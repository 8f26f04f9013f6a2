# Toy MML pipeline, stage 1 (mutual-modality-learning.txt Fig. 1, green): ONE slim ResNet3d RGB
# network trained with plain CE on the toy SSv2 data. The paper trains the two stage-1 RGB
# networks separately ("RGB" and "RGB2": different initialisations obtained the same way), so
# run this config twice, with different seeds and work dirs (tools/mml_toy_demo.sh does):
#   python tools/train.py configs/mml/toy/rgb_sthv2.py --seed 0 \
#       --work-dir work_dirs/toy_mml_rgb_sthv2
#   python tools/train.py configs/mml/toy/rgb_sthv2.py --seed 500 \
#       --work-dir work_dirs/toy_mml_rgb2_sthv2
# Toy deviations (configs/_base_/datasets/toy_sthv2_dmcl.py): the same small 3D CNN for every
# network of every row instead of TSM-R50, 2-channel flow (one x/y pair per clip frame) instead
# of 5 stacked pairs, per-frame RGBDiff (one difference per clip frame) instead of 5 stacked
# differences, no ImageNet weights, the AdamW schedule of that file for every stage.
# Data (every MML toy config): 8 uniformly sampled positions, each expanded to 2 consecutive
# frames; per position the second RGB frame, the flow between the two (frame i -> i + 1) and
# their difference (RGBDiff), packed as one 8-frame clip per modality.
_base_ = ['../../dmcl/toy/dmcl_sthv2.py']
model = dict(members=dict(_delete_=True, rgb=_base_.toy_rgb_member),
             strategy=dict(_delete_=True, type='IndependentMCLLoss'))
toy_mml_modalities = ('rgb', 'flow', 'rgb_diff')
_pairs = [dict(type='ExpandConsecutive', num=2),
          dict(type='LoadRGBFrames'), dict(type='LoadFlowFrames')]
_train_pairs = [_pairs[0], dict(_pairs[1], video_cache_mb=_base_.toy_video_cache_mb), _pairs[2]]
_segments = dict(type='FramesToSegments', as_clip=True, ops=dict(
    rgb='center', flow=dict(stack=1), rgb_diff=dict(diff=1, source='rgb')))
_train_pipeline = [
    dict(type='UniformSample', clip_len=_base_.toy_clip_len, num_clips=1), *_train_pairs,
    dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='MultimodalResize', scale=(_base_.toy_size, _base_.toy_size), keep_ratio=False),
    _segments,   # no colour jitter: TSM's SSv2 training has none
    dict(type='PackMultimodalInputs', modalities=toy_mml_modalities)]
_test_pipeline = [
    dict(type='UniformSample', clip_len=_base_.toy_clip_len, num_clips=1, test_mode=True),
    *_pairs,
    dict(type='MultimodalResize', scale=(_base_.toy_size, _base_.toy_size), keep_ratio=False),
    _segments, dict(type='PackMultimodalInputs', modalities=toy_mml_modalities)]
train_dataloader = dict(dataset=dict(modalities=('rgb', 'flow'), pipeline=_train_pipeline))
val_dataloader = dict(dataset=dict(modalities=('rgb', 'flow'), pipeline=_test_pipeline))
test_dataloader = val_dataloader
# RGBDiff member (configs/mml/mml_rgb_flow_rgbdiff_sthv2.py): differences of 0..255 frames
# (std 6: their spread on the designed benchmark data, ~5.7)
toy_rgb_diff_member = dict(_base_.toy_rgb_member, data_preprocessor=dict(
    type='ActionDataPreprocessor', mean=[0.0, 0.0, 0.0], std=[6.0, 6.0, 6.0], to_rgb=True,
    format_shape='NCTHW'))
