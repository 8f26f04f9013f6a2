# Toy pieces for configs/mml/toy/charades_*.py: the toy SSv2 frames and flow
# (data/toy/sthv2, tools/data/generate_toy_dataset.py) read as a Charades-style multi-label
# frame list written by `python tools/data/charades_to_list.py --toy-from-sthv2 data/toy/sthv2`
# (annotations/charades_{train,val}.txt: each video's class c, plus (c + 1) % 6 for even ids; a
# toy, the second label has no visual meaning). Tiny I3D (ResNet3d-18, 8 base channels, I3D
# inflation pattern and 5×7×7 stem, no temporal striding) on 8 frames of 32², so a run trains in
# about a minute on a CPU; flow: 2 channels (x/y), first conv inflated from RGB as in the paper
# config. Schedule, crops and normalisation: configs/_base_/datasets/toy_sthv2_dmcl.py.
toy_ch_data_root = 'data/toy/sthv2'
toy_ch_ann_root = f'{toy_ch_data_root}/annotations'
toy_ch_num_classes = 6
toy_ch_clip_len = 8
toy_ch_size = 32
_toy_ch_load = [dict(type='LoadRGBFrames'), dict(type='LoadFlowFrames')]
toy_ch_train_pipeline = [
    dict(type='UniformSample', clip_len=toy_ch_clip_len, num_clips=1),
    *_toy_ch_load,
    dict(type='MultimodalRandomResizedCrop', area_range=(0.6, 1.0)),
    dict(type='MultimodalResize', scale=(toy_ch_size, toy_ch_size), keep_ratio=False),
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow')),
]
toy_ch_test_pipeline = [
    dict(type='UniformSample', clip_len=toy_ch_clip_len, num_clips=1, test_mode=True),
    *_toy_ch_load,
    dict(type='MultimodalResize', scale=(toy_ch_size, toy_ch_size), keep_ratio=False),
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow')),
]
_toy_ch_dataset = dict(type='MultimodalFrameListDataset', modalities=('rgb', 'flow'),
                       multi_class=True, num_classes=toy_ch_num_classes,
                       data_prefix=dict(rgb=f'{toy_ch_data_root}/frames',
                                        flow=f'{toy_ch_data_root}/flow'),
                       filename_tmpls=dict(rgb='{:04d}.jpg', flow='{}_{:05d}.jpg'))
toy_ch_train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(_toy_ch_dataset, ann_file=f'{toy_ch_ann_root}/charades_train.txt',
                 pipeline=toy_ch_train_pipeline))
toy_ch_val_dataloader = dict(
    batch_size=18, num_workers=2, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(_toy_ch_dataset, ann_file=f'{toy_ch_ann_root}/charades_val.txt',
                 pipeline=toy_ch_test_pipeline, test_mode=True))


def _toy_ch_i3d(in_channels, mean, std, to_rgb=False):
    return dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=18, in_channels=in_channels, base_channels=8,
                      pretrained=None, pretrained2d=False, conv1_kernel=(5, 7, 7),
                      conv1_stride_t=1, pool1_stride_t=1, with_pool1=False,
                      conv_cfg=dict(type='Conv3d'), norm_eval=False,
                      inflate=((1, 1), (1, 0), (1, 0), (0, 1)), zero_init_residual=False),
        cls_head=dict(type='I3DHead', num_classes=toy_ch_num_classes, in_channels=64,
                      spatial_type='avg', dropout_ratio=0.0, init_std=0.01,
                      loss_cls=dict(type='BCELossWithLogits'), multi_class=True,
                      average_clips='score'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=std,
                               to_rgb=to_rgb, format_shape='NCTHW'))


toy_ch_rgb_member = _toy_ch_i3d(3, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375], True)
toy_ch_flow_member = _toy_ch_i3d(2, [127.5, 127.5], [10.0, 10.0])
toy_ch_evaluator = dict(type='MultiModalityMetric', fusion='prob', multi_label=True)
