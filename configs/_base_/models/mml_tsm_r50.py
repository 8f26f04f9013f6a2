# Mutual Modality Learning (mutual-modality-learning.txt §3.1.1): TSM-ResNet50, 8 segments, on
# Something-Something V2; one network per modality (RGB: 3 channels; stacked flow: 5 x/y pairs
# = 10 channels, normalised with mean 0.5 / std 0.226 of [0, 1] as the reference code; RGBDiff:
# 5 differences of 6 frames = 15 channels). Packed NCTHW clips reach the 2D network as images
# through FramesAsImages. Non-RGB first convolutions are inflated from the RGB stage
# (MultiModalityNetworks.member_init: W_new[:, i] = mean of the RGB kernel's channels).
num_classes = 174
num_segments = 8
# ImageNet ResNet-50 for stage 1, the published torchvision weights as in MMAction2's own
# configs/_base_/models/tsm_r50.py (mmengine downloads them at the start of training; offline:
# set a local file), loaded by ResNetTSM's pretrained2d path. Later stages start from the
# previous stage through member_init (MMAction2's ResNetTSM / ResNet3d ignore init_cfg).
imagenet_r50 = 'torchvision://resnet50'
# Heads: average_clips='score' = what MultiModalityNetworks does with several test clips (mean
# of the clip logits; it refuses 'prob'); the MML test protocol uses one clip (sthv2_mml.py).


def tsm_r50(in_channels, mean, std, to_rgb=False, pretrained=None):
    return dict(
        type='Recognizer2D',
        backbone=dict(type='ResNetTSM', depth=50, num_segments=num_segments,
                      in_channels=in_channels,
                      pretrained=pretrained, pretrained2d=pretrained is not None,
                      norm_eval=False,
                      shift_div=8),
        cls_head=dict(type='TSMHead', num_classes=num_classes, in_channels=2048,
                      num_segments=num_segments, spatial_type='avg',
                      consensus=dict(type='AvgConsensus', dim=1),
                      dropout_ratio=0.5, init_std=0.001, is_shift=True, average_clips='score'),
        data_preprocessor=dict(type='FramesAsImages', preprocessor=dict(
            type='ActionDataPreprocessor', mean=mean, std=std, to_rgb=to_rgb,
            format_shape='NCHW')))


rgb_norm = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_rgb=True)
rgb_member = tsm_r50(3, **rgb_norm)
rgb_member_imagenet = tsm_r50(3, pretrained=imagenet_r50, **rgb_norm)
flow_member = tsm_r50(10, [127.5] * 10, [57.63] * 10)
rgb_diff_member = tsm_r50(15, [0.0] * 15, [57.63] * 15)  # differences of 0..255 frames
