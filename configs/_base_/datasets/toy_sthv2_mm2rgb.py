# Toy pieces for configs/mm2rgb/toy/ and configs/d3d/toy/: the toy SSv2 + Something-Else-format
# data of tools/data/generate_toy_dataset.py (data/toy/sthv2: 6 classes, 64×64 mp4 videos, x/y
# flow, boxes; direction is in boxes / flow / rgb, push vs pull only in the rgb hand pose), tiny
# models with the paper's structure where they learn, and a short schedule, so each training
# runs on a CPU in about a minute. Toy configs inherit the paper config and this file and only
# swap these in.
# Toy deviations from the paper (all for CPU speed on a few hundred training videos):
#   - video backbone: the paper's TimeSformer (multimodal-teacher-rgb-student.txt, RGB and flow
#     baselines, students, Omnivore) and R(2+1)D / S3D-G (D3D: flow teacher, RGB baseline and
#     student, probed networks) are replaced, for EVERY row of both tables alike, by one slim
#     MMAction2 ResNet3d (3 stages of 1 basic block, 16-32-64 channels, 3×5×5 stem, no max-pools,
#     from scratch) + I3DHead. At the toy's size a from-scratch TimeSformer (64-d, 2 layers,
#     8×8 patches) stayed at chance on RGB (20.8 % top-1, 6 classes) and the 8-channel
#     R(2+1)D-18 too (22.2 %), so the distillation claims could not be tested with them; the
#     slim ResNet3d reaches ~60 % on RGB in 30 epochs. STLT (boxes) keeps its architecture:
#     64-d, 1 spatial + 2 temporal layers, 4 heads;
#   - crop area (0.6, 1.0) of the 64×64 frame resized to 32×32 (paper: MMAction2 default crop
#     to 224²); no colour jitter (paper configs: MMAction2's ColorJitter on rgb): on this
#     toy's 32² clips the default strength (0.5 / 0.5 / 0.5 / 0.1) kept the RGB baseline at
#     chance on the distillation benchmark (13.9-19.4 % over 5 seeds; 50.7 ± 2.3 % without),
#     the same cause as the DMCL / MML toy (docs/benchmarks.md ## D3D, ## DMCL);
#   - flow normalised with std 10 (not 127.5): the toy's flow is a few pixels, as in toy_sthv2;
#   - schedule (one for every row of both tables): 30 epochs (Omnivore and the STLT boxes
#     baseline 3× = 90), peak lr 1e-3 (paper 20 epochs, 5e-5), same shape (linear warm-up over
#     the first 10 %, linear decay to 0), AdamW, wd 1e-3, clip 5.0; D3D probes: 10 epochs,
#     cosine, lr 1e-3;
#   - STLT (boxes baseline) initialised with PyTorch's defaults (nn.Linear / nn.Embedding /
#     nn.MultiheadAttention, as the reference STLT) instead of the backbone's ViT-style
#     trunc-normal 0.02, and trained 90 epochs: on the distillation benchmark the 0.02 init sat
#     on a plateau at CE = log 6 for 4-15 epochs depending on the seed, so the boxes baseline
#     ended at chance on some seeds (30 epochs, 5 seeds: 16.7 / 13.9 / 32.9 / 38.0 / 45.8 %;
#     90 epochs: 38.0 / 48.6 / 62.0 / 56.0 / 38.4 %); PyTorch's init at 30 epochs: 32.4 / 55.1 /
#     55.6 / 45.8 / 57.9 %, at 90 epochs: see docs/benchmarks.md ## Multimodal → RGB. Chosen on
#     the boxes baseline only (no teacher or student was trained for it).
toy_data_root = 'data/toy/sthv2'
toy_ann_root = f'{toy_data_root}/annotations'
toy_clip_len = 8
toy_size = 32
toy_max_boxes = 4
toy_num_classes = 6
toy_embed_dims = 64

# Decoded-video cache of the training loaders (LoadRGBFrames(video_cache_mb=...), per process):
# the same frames, decoded once instead of every epoch (about half of an RGB run's time on a
# CPU went to decoding these small mp4 clips; benchmarks/video_cache.py); ~0.2 MB a clip.
toy_video_cache_mb = 256
_toy_load = dict(rgb=dict(type='LoadRGBFrames'), flow=dict(type='LoadFlowFrames'),
                 boxes=dict(type='LoadBoxes', max_boxes=toy_max_boxes))
_toy_train_load = dict(
    _toy_load, rgb=dict(type='LoadRGBFrames', video_cache_mb=toy_video_cache_mb))


# Boxes alone: no frames to crop against (the spatial transforms need a visual reference), so
# STLT sees the full-frame layout (boxes normalised by the frame size), train and test.
# In the rgb_boxes / rgb_flow_boxes pipelines the crop moves the boxes (the paper's "same
# views"), as in the paper configs (sthv2_mm2rgb.py, boxes_follow_crop).
def _toy_boxes_pipeline(test_mode):
    return [dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1, test_mode=test_mode),
            _toy_load['boxes'], dict(type='PackMultimodalInputs')]


def _toy_train_pipeline(mods):
    if 'rgb' not in mods and 'flow' not in mods:
        return _toy_boxes_pipeline(test_mode=False)
    return [
        dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1),
        *[_toy_train_load[m] for m in mods],
        dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
        dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
        # no colour jitter: toy deviation, see the header
        dict(type='PackMultimodalInputs'),
    ]


def _toy_test_pipeline(mods):
    if 'rgb' not in mods and 'flow' not in mods:
        return _toy_boxes_pipeline(test_mode=True)
    return [
        dict(type='UniformSample', clip_len=toy_clip_len, num_clips=1, test_mode=True),
        *[_toy_load[m] for m in mods],
        dict(type='MultimodalResize', scale=(toy_size, toy_size), keep_ratio=False),
        dict(type='PackMultimodalInputs'),
    ]


# same keys as the paper's train_datasets / test_datasets entries, so merging replaces them all
def _toy_dataset(mods, split, pipeline, test_mode=False):
    return dict(type='SomethingSomethingV2Dataset', ann_file=f'{toy_ann_root}/{split}.json',
                labels_file=f'{toy_ann_root}/labels.json',
                boxes_file=f'{toy_ann_root}/annotations.json' if 'boxes' in mods else None,
                data_prefix=dict(video=f'{toy_data_root}/videos', flow=f'{toy_data_root}/flow'),
                modalities=tuple(mods), rgb_source='video', video_ext='.mp4',
                pipeline=pipeline, test_mode=test_mode)


_toy_sets = dict(rgb=('rgb', ), flow=('flow', ), boxes=('boxes', ), rgb_flow=('rgb', 'flow'),
                 rgb_boxes=('rgb', 'boxes'), rgb_flow_boxes=('rgb', 'flow', 'boxes'))
toy_train_datasets = {k: _toy_dataset(v, 'train', _toy_train_pipeline(v))
                      for k, v in _toy_sets.items()}
toy_test_datasets = {k: _toy_dataset(v, 'validation', _toy_test_pipeline(v), True)
                     for k, v in _toy_sets.items()}
toy_train_datasets['omnivore'] = _toy_dataset(('rgb', 'flow', 'boxes'), 'train', [
    *_toy_train_pipeline(('rgb', 'flow', 'boxes'))[:-1],
    dict(type='RenderBoxes', thickness=2),
    dict(type='SampleOneModality', probs=dict(rgb=1 / 3, flow=1 / 3, boxes_image=1 / 3),
         out_key='rgb', test_modality='rgb'),
    dict(type='PackMultimodalInputs', modalities=('rgb', )),
])
toy_test_datasets['omnivore'] = toy_test_datasets['rgb']
toy_train_dataloader = dict(batch_size=8, num_workers=2, persistent_workers=True)
toy_val_dataloader = dict(batch_size=18, num_workers=2, persistent_workers=False)


# ---- models (every key of the paper model dicts is set, so a merge replaces them) ----------
def _toy_resnet3d(in_channels):
    """Slim ResNet3d: [B, C, 8, 32, 32] -> layer1 16×8×16², layer2 32×4×8², layer3 64×2×4².

    ``_delete_``: a toy config merges it over the paper's backbone (TimeSformer, ResNet2Plus1d),
    whose other keys (e.g. ``embed_dims``, ``conv_cfg=Conv2plus1d``) must not carry over.
    """
    return dict(_delete_=True, type='ResNet3d', depth=18, pretrained=None, pretrained2d=False,
                in_channels=in_channels, base_channels=16, num_stages=3, stage_blocks=(1, 1, 1),
                dilations=(1, 1, 1), out_indices=(2, ), conv1_kernel=(3, 5, 5),
                conv1_stride_t=1, pool1_stride_t=1, with_pool1=False, with_pool2=False,
                inflate=(1, 1, 1), spatial_strides=(1, 2, 2), temporal_strides=(1, 2, 2),
                norm_eval=False, zero_init_residual=False)


toy_video_channels = 64    # the slim ResNet3d's output channels
_toy_head = dict(type='I3DHead', num_classes=toy_num_classes, in_channels=toy_video_channels,
                 spatial_type='avg', dropout_ratio=0.0, average_clips='prob')
toy_rgb_model = dict(
    type='Recognizer3D', backbone=_toy_resnet3d(3), cls_head=_toy_head,
    data_preprocessor=dict(
        type='SelectModality', modality='rgb',
        preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5],
                          std=[127.5, 127.5, 127.5], to_rgb=True, format_shape='NCTHW')))
toy_flow_model = dict(
    type='Recognizer3D', backbone=_toy_resnet3d(2), cls_head=_toy_head,
    data_preprocessor=dict(
        type='SelectModality', modality='flow',
        preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5], std=[10.0, 10.0],
                          format_shape='NCTHW')))
toy_boxes_model = dict(
    type='BoxRecognizer',
    backbone=dict(type='STLT', embed_dims=toy_embed_dims, num_spatial_layers=1,
                  num_temporal_layers=2, num_heads=4, max_boxes=toy_max_boxes,
                  max_frames=toy_clip_len, dropout=0.1,
                  # toy deviation: PyTorch's default initialisation (the reference STLT's) instead
                  # of our ViT-style trunc-normal 0.02 (see the header)
                  init_cfg=None),
    cls_head=dict(type='MultiHeadMLP', in_channels=toy_embed_dims, num_classes=toy_num_classes),
    data_preprocessor=dict(
        type='SelectModality', modality='boxes',
        preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW')))
toy_baseline_members = dict(
    rgb=dict(model=toy_rgb_model, checkpoint='work_dirs/toy_baseline_rgb_sthv2', modality='rgb'),
    flow=dict(model=toy_flow_model, checkpoint='work_dirs/toy_baseline_flow_sthv2',
              modality='flow'),
    boxes=dict(model=toy_boxes_model, checkpoint='work_dirs/toy_baseline_boxes_sthv2',
               modality='boxes'))

# D3D: the same slim ResNet3d for the flow teacher and the RGB baseline / student (the paper uses
# one architecture for both streams); the probe reads layer2 (32 channels, 4 frames, 8×8 for a
# 32² input), like the paper's R(2+1)D-34 layer2 / S3D-G 3A at 1/8 of the input size.
_toy_d3d_head = _toy_head
toy_d3d_rgb_model = dict(
    type='Recognizer3D', backbone=_toy_resnet3d(3), cls_head=_toy_d3d_head,
    data_preprocessor=dict(
        type='SelectModality', modality='rgb',
        preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                          std=[58.395, 57.12, 57.375], to_rgb=True, format_shape='NCTHW')))
toy_d3d_flow_model = dict(
    type='Recognizer3D', backbone=_toy_resnet3d(2), cls_head=_toy_d3d_head,
    data_preprocessor=dict(
        type='SelectModality', modality='flow',
        preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5], std=[10.0, 10.0],
                          format_shape='NCTHW')))
toy_d3d_probe_channels = 32   # slim ResNet3d layer2

# ---- schedule: 30 epochs, peak lr 1e-3, linear warm-up 10 % then linear decay to 0 ----------
toy_max_epochs = 30
toy_lr = 1e-3
toy_param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, by_epoch=True, begin=0,
         end=toy_max_epochs * 0.1, convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True,
         begin=toy_max_epochs * 0.1, end=toy_max_epochs, convert_to_iter_based=True),
]
toy_omnivore_max_epochs = 3 * toy_max_epochs
toy_omnivore_param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, by_epoch=True, begin=0,
         end=toy_omnivore_max_epochs * 0.1, convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True,
         begin=toy_omnivore_max_epochs * 0.1, end=toy_omnivore_max_epochs,
         convert_to_iter_based=True),
]
# STLT boxes baseline: 3x the toy schedule too (the Omnivore shape), chosen on that baseline only
# (see the header)
toy_boxes_max_epochs = toy_omnivore_max_epochs
toy_boxes_param_scheduler = toy_omnivore_param_scheduler
toy_default_hooks = dict(logger=dict(interval=9), checkpoint=dict(interval=10, max_keep_ckpts=1))
