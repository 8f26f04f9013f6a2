# Toy pieces for configs/dmcl/toy/ and configs/mml/toy/: the toy SSv2 data of
# tools/data/generate_toy_dataset.py (data/toy/sthv2: 6 classes, 64×64 videos, x/y flow and
# one-channel depth PNGs; direction is in rgb / flow / depth, push vs pull in the rgb hand colour
# pose and the depth hand shape) and tiny R(2+1)D-18 networks, so a run of 3 networks takes a
# few minutes on a CPU. Toy deviations (CPU speed, 72 training videos):
#   - R(2+1)D-18 with 8 base channels, no max-pool after conv1, 32×32 input, 1 test clip
#     (paper: 64 channels, 224², 10 clips);
#   - crop area (0.6, 1.0) of the 64² frame resized to 32² (paper: shifted-centre 224² crop);
#   - flow normalised with std 10 (the toy flow is a few pixels), depth mean/std 127.5;
#   - SGD momentum 0.9 with lr 0.05 and cosine decay over 20 epochs (paper: lr 1e-3, from
#     scratch on thousands of videos).
toy_data_root = 'data/toy/sthv2'
toy_ann_root = f'{toy_data_root}/annotations'
toy_clip_len = 8
toy_size = 32
toy_num_classes = 6
toy_modalities = ('rgb', 'depth', 'flow')
_toy_load = [dict(type='LoadRGBFrames'), dict(type='LoadDepthFrames'), dict(type='LoadFlowFrames')]
toy_train_pipeline = [
    dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1),
    *_toy_load,
    dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
    dict(type='MultimodalColorJitter'),
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
    backbone = dict(
        type='ResNet2Plus1d', depth=18, pretrained=None, pretrained2d=False,
        in_channels=in_channels, base_channels=8, norm_eval=False,
        conv_cfg=dict(type='Conv2plus1d'), norm_cfg=dict(type='BN3d', requires_grad=True,
                                                         eps=1e-3),
        act_cfg=dict(type='ReLU'), conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1,
        with_pool1=False, inflate=(1, 1, 1, 1), spatial_strides=(1, 2, 2, 2),
        temporal_strides=(1, 2, 2, 2), zero_init_residual=False)
    return dict(type='Recognizer3D', backbone=backbone,
                cls_head=dict(type='I3DHead', num_classes=toy_num_classes, in_channels=64,
                              spatial_type='avg', dropout_ratio=0.0, average_clips='prob'),
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=std,
                                       to_rgb=to_rgb, format_shape='NCTHW'))


toy_rgb_member = _toy_member(3, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375], True)
toy_depth_member = _toy_member(1, [127.5], [127.5])
toy_flow_member = _toy_member(2, [127.5, 127.5], [10.0, 10.0])
toy_members = dict(rgb=toy_rgb_member, depth=toy_depth_member, flow=toy_flow_member)

toy_max_epochs = 20
toy_train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=toy_max_epochs, val_begin=1,
                     val_interval=5)
toy_optim_wrapper = dict(type='OptimWrapper',
                         optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
toy_param_scheduler = [dict(type='CosineAnnealingLR', T_max=toy_max_epochs, eta_min=0,
                            by_epoch=True, begin=0, end=toy_max_epochs,
                            convert_to_iter_based=True)]
toy_default_hooks = dict(logger=dict(interval=9),
                         checkpoint=dict(interval=5, max_keep_ckpts=1, save_best='fused_top1',
                                         rule='greater'))
