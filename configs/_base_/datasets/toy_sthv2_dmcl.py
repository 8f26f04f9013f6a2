# Toy pieces for configs/dmcl/toy/ and configs/mml/toy/*_sthv2.py: the toy SSv2 data of
# tools/data/generate_toy_dataset.py (data/toy/sthv2: 6 classes, 64×64 videos, x/y flow and
# one-channel depth PNGs; direction is in rgb / flow / depth, push vs pull in the rgb hand colour
# pose and the depth hand shape) and small 3D CNNs, so a run of 3 networks takes a couple of
# minutes on a CPU. Toy deviations (CPU speed, 72 training videos by default, 240 in
# benchmarks/reproduce):
#   - every modality network (rgb, depth, flow; every row of the DMCL and MML toy tables alike)
#     is a slim MMAction2 ResNet3d (3 stages of one basic block, 16/32/64 channels, 3×5×5 stem,
#     no max-pool, fully 3D convolutions) instead of the paper's R(2+1)D-18 (DMCL) / TSM-R50
#     (MML): the tiny R(2+1)D-18 RGB network stayed at chance on the toy (16.7–22.2 % top-1),
#     this ResNet3d learns it (62.5 % RGB top-1 alone, 30 epochs, AdamW lr 1e-3);
#   - 32×32 input (crop area (0.6, 1.0) of the 64² frame resized to 32²; paper: shifted-centre
#     224² crop), 8 frames, 1 test clip (paper: 10 clips);
#   - flow normalised with std 10 (the toy flow is a few pixels), depth mean/std 127.5;
#   - schedule (one for every row of both tables, chosen before the comparison): 20 epochs
#     (a 3-network run takes ~2 min on a CPU, so the DMCL suite's 5 rows × 3 seeds fit in 30
#     min), AdamW lr 1e-3, wd 1e-3, grad-norm clip 5, linear warm-up over 10 % of the epochs,
#     then linear decay to 0 (paper DMCL: SGD lr 1e-3 from scratch, 220 epochs in the released
#     code, on thousands of videos; each MML stage runs the whole schedule from the previous
#     stage's weights).
toy_data_root = 'data/toy/sthv2'
toy_ann_root = f'{toy_data_root}/annotations'
toy_clip_len = 8
toy_size = 32
toy_num_classes = 6
toy_modalities = ('rgb', 'depth', 'flow')
# Decoded-video cache of the training loaders (LoadRGBFrames(video_cache_mb=...), per process):
# the same frames, decoded once instead of every epoch (about half of an RGB run's time on a
# CPU went to decoding these small mp4 clips; benchmarks/video_cache.py); ~0.2 MB a clip.
toy_video_cache_mb = 256
_toy_load = [dict(type='LoadRGBFrames'), dict(type='LoadDepthFrames'), dict(type='LoadFlowFrames')]
toy_train_pipeline = [
    dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1),
    dict(type='LoadRGBFrames', video_cache_mb=toy_video_cache_mb), *_toy_load[1:],
    dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
    # no colour jitter (toy deviation; DMCL §4.2 uses "random color distortions" on 224² real
    # video): on the toy's 32² synthetic clips MMAction2's default ColorJitter (0.5 / 0.5 / 0.5 /
    # 0.1) kept the from-scratch RGB network's training CE at log C for 8-20 epochs, and even
    # 0.1 / 0.1 / 0.1 / 0.01 slowed it (docs/benchmarks.md ## DMCL)
    dict(type='PackMultimodalInputs'),
]
toy_test_pipeline = [
    dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1, test_mode=True),
    *_toy_load,
    dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
    dict(type='PackMultimodalInputs'),
]
_toy_dataset = dict(type='SomethingSomethingV2Dataset', labels_file=f'{toy_ann_root}/labels.json',
                    data_prefix=dict(video=f'{toy_data_root}/videos',
                                     flow=f'{toy_data_root}/flow',
                                     depth=f'{toy_data_root}/depth'),
                    modalities=toy_modalities, rgb_source='video', video_ext='.mp4')
toy_train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_toy_dataset, ann_file=f'{toy_ann_root}/train.json',
                 pipeline=toy_train_pipeline))
toy_val_dataloader = dict(
    batch_size=18, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_toy_dataset, ann_file=f'{toy_ann_root}/validation.json',
                 pipeline=toy_test_pipeline, test_mode=True))


def _toy_member(in_channels, mean, std, to_rgb=False):
    """A slim ResNet3d-18 recognizer (3 stages × 1 block, 16 base channels; 64-d I3D head)."""
    backbone = dict(
        type='ResNet3d', depth=18, pretrained=None, pretrained2d=False, in_channels=in_channels,
        base_channels=16, num_stages=3, stage_blocks=(1, 1, 1), dilations=(1, 1, 1),
        out_indices=(2, ), conv1_kernel=(3, 5, 5), conv1_stride_t=1, pool1_stride_t=1,
        with_pool1=False, with_pool2=False, inflate=(1, 1, 1), spatial_strides=(1, 2, 2),
        temporal_strides=(1, 2, 2), norm_eval=False, zero_init_residual=False)
    return dict(type='Recognizer3D', backbone=backbone,
                cls_head=dict(type='I3DHead', num_classes=toy_num_classes, in_channels=64,
                              spatial_type='avg', dropout_ratio=0.0, average_clips='score'),
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=std,
                                       to_rgb=to_rgb, format_shape='NCTHW'))


toy_rgb_member = _toy_member(3, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375], True)
toy_depth_member = _toy_member(1, [127.5], [127.5])
toy_flow_member = _toy_member(2, [127.5, 127.5], [10.0, 10.0])
toy_members = dict(rgb=toy_rgb_member, depth=toy_depth_member, flow=toy_flow_member)

toy_max_epochs = 20
toy_train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=toy_max_epochs, val_begin=1,
                     val_interval=5)
toy_optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=5.0, norm_type=2),
                         optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999),
                                        weight_decay=1e-3))
toy_param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, by_epoch=True, begin=0,
         end=toy_max_epochs * 0.1, convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True,
         begin=toy_max_epochs * 0.1, end=toy_max_epochs, convert_to_iter_based=True),
]
toy_default_hooks = dict(logger=dict(interval=10),
                         checkpoint=dict(interval=5, max_keep_ckpts=1, save_best='rgb_top1',
                                         rule='greater'))
