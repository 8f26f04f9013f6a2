# Charades (157 classes, multi-label) for MML's "I3D on Charades" setup
# (mutual-modality-learning.txt §3.1.2, §3.3, Tab. 6, appendix 2): RGB + optical-flow I3D
# ResNet-50 networks, BCE + KL/(B·C) (MutualLearningLoss's multi-label mode), mAP.
#
# Lists: tools/data/charades_to_list.py (Charades_v1_{train,test}.csv + frame counts) →
# "<id> <total_frames> <label1> <label2> ..."; frames extracted from the Charades_v1 videos as
# MMAction2 rawframes (<id>/img_{:05d}.jpg, TV-L1 flow <id>/{x,y}_{:05d}.jpg: the paper's flow).
#
# What the paper gives: I3D ResNet-50 (§3.1.2), Kinetics-400 initialisation instead of
# ImageNet (§3.1.2), TV-L1 flow (§3.1), BCE with KL divided by batch × classes (§3.3,
# appendix 2), mAP (Tab. 6). What it does not give: "optimizer, the number of epochs and other
# hyperparameters are taken from the standard config-file for the Charades training" of the
# code of its ref. [7] without numbers; the sampling, crops, schedule and batch below are
# therefore MMAction2 1.1's I3D-R50 Kinetics-400 recipe (configs/_base_/models/i3d_r50.py,
# 32x2x1 sampling, schedules/sgd_100e.py), not the paper's. Flow: the paper stacks 5 x/y pairs
# per input frame for its (2D) TSM setup (§3.1); for the 3D I3D we feed one x/y pair per frame
# (MMAction2's I3D flow convention), its first conv inflated from RGB (3 → 2 channels).
data_root = 'data/charades'
num_classes = 157
clip_len = 32
frame_interval = 2

# Kinetics-400 I3D-R50: set a local file (or the MMAction2 model-zoo URL once verified) with
#   --cfg-options model.member_init.rgb.checkpoint=FILE model.member_init.rgb_b.checkpoint=FILE
# in stage 1 (configs/mml/charades/rgb_charades.py). None here: the v1.0 I3D checkpoint URL
# could not be confirmed in open-mmlab/mmaction2's configs/metafiles from this environment.
# MMAction2 1.1's ResNet3d ignores init_cfg, and its `pretrained` path loads a backbone-only
# file: a whole recognizer checkpoint goes through MultiModalityNetworks.member_init
# (prefix='', strict=False: the 400-class head is skipped, shape mismatch).
kinetics_i3d_r50 = None


def i3d_r50(in_channels, mean, std, to_rgb=False):
    """MMAction2 1.1 I3D-R50 (configs/_base_/models/i3d_r50.py) with a 157-way multi-label head."""
    return dict(
        type='Recognizer3D',
        backbone=dict(type='ResNet3d', depth=50, in_channels=in_channels,
                      pretrained=None, pretrained2d=False,  # init: member_init (see above)
                      conv1_kernel=(5, 7, 7), conv1_stride_t=2, pool1_stride_t=2,
                      conv_cfg=dict(type='Conv3d'), norm_eval=False,
                      inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)),
                      zero_init_residual=False),
        # loss_cls / multi_class are used only if the member is trained alone (MMAction2's
        # own multi-label head settings); under MultiModalityNetworks MutualLearningLoss
        # computes the loss from the logits.
        cls_head=dict(type='I3DHead', num_classes=num_classes, in_channels=2048,
                      spatial_type='avg', dropout_ratio=0.5, init_std=0.01,
                      loss_cls=dict(type='BCELossWithLogits'), multi_class=True,
                      average_clips='score'),
        data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=std,
                               to_rgb=to_rgb, format_shape='NCTHW'))


rgb_member = i3d_r50(3, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375], to_rgb=True)
flow_member = i3d_r50(2, [127.5, 127.5], [57.63, 57.63])  # flow JPEGs, as mml_tsm_r50.py

_load = [dict(type='LoadFlowFrames'), dict(type='WithFrameOffset', transform=dict(
    type='LoadRGBFrames'))]
train_pipeline = [
    dict(type='AlignedSample', short_key='flow_total_frames', sampler=dict(
        type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1)),
    *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalRandomResizedCrop'),
    dict(type='MultimodalResize', scale=(224, 224), keep_ratio=False),
    dict(type='MultimodalFlip', flip_ratio=0.5),
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow')),
]
test_pipeline = [
    dict(type='AlignedSample', short_key='flow_total_frames', test_mode=True, sampler=dict(
        type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=10,
        test_mode=True)),
    *_load,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalCenterCrop', crop_size=224),
    dict(type='PackMultimodalInputs', modalities=('rgb', 'flow')),
]
_dataset = dict(type='MultimodalFrameListDataset', modalities=('rgb', 'flow'),
                multi_class=True, num_classes=num_classes,
                data_prefix=dict(rgb=f'{data_root}/rawframes', flow=f'{data_root}/rawframes'),
                filename_tmpls=dict(rgb='img_{:05d}.jpg', flow='{}_{:05d}.jpg'))
train_dataloader = dict(batch_size=8, num_workers=8, persistent_workers=True,  # 8 GPUs: 64
                        sampler=dict(type='DefaultSampler', shuffle=True),
                        dataset=dict(_dataset, ann_file=f'{data_root}/charades_train_list.txt',
                                     pipeline=train_pipeline))
val_dataloader = dict(batch_size=1, num_workers=8, persistent_workers=True,
                      sampler=dict(type='DefaultSampler', shuffle=False),
                      dataset=dict(_dataset, ann_file=f'{data_root}/charades_test_list.txt',
                                   pipeline=test_pipeline, test_mode=True))
test_dataloader = val_dataloader
# Σ sums the streams' sigmoid probabilities; fused_mAP / <name>_mAP (MML Tab. 6 reports mAP).
val_evaluator = dict(type='MultiModalityMetric', fusion='prob', multi_label=True)
test_evaluator = val_evaluator

# MMAction2 1.1's schedules/sgd_100e.py (the I3D-R50 recipe; the paper gives none).
max_epochs = 100
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=40, norm_type=2),
                     optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                        milestones=[40, 80], gamma=0.1)]
auto_scale_lr = dict(enable=False, base_batch_size=64)
