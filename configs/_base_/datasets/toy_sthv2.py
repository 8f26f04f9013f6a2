# The toy SSv2 + Something-Else-format dataset of tools/data/generate_toy_dataset.py
# (data/toy/sthv2): mp4 videos (and the same clips as frame folders), x/y flow frames, SSv2
# label/split JSONs and Something-Else boxes; 6 classes, 64×64 frames. Variables are prefixed
# toy_ so they do not clash with the paper config's.
toy_data_root = 'data/toy/sthv2'
toy_ann_root = f'{toy_data_root}/annotations'
toy_common = dict(
    labels_file=f'{toy_ann_root}/labels.json', boxes_file=f'{toy_ann_root}/annotations.json',
    data_prefix=dict(video=f'{toy_data_root}/videos', flow=f'{toy_data_root}/flow'),
    rgb_source='video', video_ext='.mp4')
toy_clip_len = 8
toy_size = 32
toy_max_boxes = 4

toy_load = [
    dict(type='LoadRGBFrames'),
    dict(type='LoadFlowFrames'),
    dict(type='LoadBoxes', max_boxes=toy_max_boxes),
]
# Decoded-video cache of the training loaders (LoadRGBFrames(video_cache_mb=...), per process):
# the same frames, decoded once instead of every epoch (about half of an RGB run's time on a
# CPU went to decoding these small mp4 clips; benchmarks/video_cache.py); ~0.2 MB a clip.
toy_video_cache_mb = 256
toy_train_pipeline = [
    dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1),
    dict(type='LoadRGBFrames', video_cache_mb=toy_video_cache_mb), *toy_load[1:],
    dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
    dict(type='PackMultimodalInputs'),
]
toy_train_pipeline_modality_dropout = [
    *toy_train_pipeline[:-1],
    dict(type='ModalityDropout', p=0.5, keep_at_least_one=True),
    dict(type='PackMultimodalInputs'),
]
toy_val_pipeline = [
    dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1, test_mode=True),
    *toy_load,
    dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
    dict(type='PackMultimodalInputs'),
]
toy_train_dataset = dict(toy_common, ann_file=f'{toy_ann_root}/train.json',
                         pipeline=toy_train_pipeline)
toy_train_dataset_modality_dropout = dict(toy_train_dataset,
                                          pipeline=toy_train_pipeline_modality_dropout)
toy_val_dataset = dict(toy_common, ann_file=f'{toy_ann_root}/validation.json',
                       pipeline=toy_val_pipeline)

# Small models with the paper's structure (Swin3D video/flow, STLT boxes, Θ-Average, fusion,
# MLP head): Swin3D on 8×32×32 → 64 tokens → Θ = 32; STLT → one token per frame (8).
toy_theta = 32
toy_num_classes = 6


def _toy_swin(embed_dims, in_channels):
    return dict(type='SwinTransformer3D',
                arch=dict(embed_dims=embed_dims, depths=[1, 1], num_heads=[2, 4]),
                pretrained=None, pretrained2d=False, patch_size=(2, 4, 4),
                window_size=(2, 4, 4), out_indices=(1, ), drop_path_rate=0.0,
                in_channels=in_channels)


def _toy_model(embed_dims, fusion_dims, num_layers, attn_drop, stlt_layers):
    return dict(
        data_preprocessor=dict(preprocessors=dict(flow=dict(std=[10.0, 10.0]))),
        backbones=dict(_delete_=True, rgb=_toy_swin(embed_dims, 3), flow=_toy_swin(embed_dims, 2),
                       boxes=dict(type='STLT', embed_dims=2 * embed_dims,
                                  num_spatial_layers=stlt_layers[0],
                                  num_temporal_layers=stlt_layers[1], num_heads=2,
                                  max_boxes=toy_max_boxes, max_frames=toy_clip_len)),
        neck=dict(theta=toy_theta),
        fusion=dict(in_channels=dict(rgb=2 * embed_dims, flow=2 * embed_dims,
                                     boxes=2 * embed_dims),
                    num_tokens=dict(rgb=toy_theta, flow=toy_theta, boxes=toy_clip_len),
                    embed_dims=fusion_dims, num_layers=num_layers, num_heads=4,
                    attn_drop=attn_drop),
        cls_head=dict(in_channels=fusion_dims, num_classes=toy_num_classes))


# As for the EPIC toy: no pre-trained toy feature extractors, so the toy teacher trains them.
toy_teacher = dict(_toy_model(48, 64, 2, 0.3, (2, 2)), frozen_backbones=False,
                   allow_random_frozen=True)
toy_student = _toy_model(32, 32, 1, 0.0, (1, 2))

toy_max_epochs = 60
toy_warmup_epochs = 6
toy_lr = 1e-3
toy_schedule = [
    dict(type='LinearLR', start_factor=1e-5 / toy_lr, end_factor=1.0, by_epoch=True,
         begin=0, end=toy_warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=toy_max_epochs - toy_warmup_epochs, eta_min=1e-5,
         by_epoch=True, begin=toy_warmup_epochs, end=toy_max_epochs, convert_to_iter_based=True),
]
