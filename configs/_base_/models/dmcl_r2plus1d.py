# DMCL (dmcl.txt §4 "Implementation details"): one R(2+1)D-18 per modality (RGB, depth, optical
# flow), trained from scratch, 8 frames of 224². Each member is a plain MMAction2 Recognizer3D
# with its own data preprocessor; it reads inputs[<member name>] (MultiModalityNetworks).
num_classes = 120  # NTU RGB+D 120; the dataset configs set theirs


def r2plus1d_18(in_channels):
    return dict(type='ResNet2Plus1d', depth=18, pretrained=None, pretrained2d=False,
                in_channels=in_channels, norm_eval=False, conv_cfg=dict(type='Conv2plus1d'),
                norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
                act_cfg=dict(type='ReLU'), conv1_kernel=(3, 7, 7), conv1_stride_t=1,
                pool1_stride_t=1, inflate=(1, 1, 1, 1), spatial_strides=(1, 2, 2, 2),
                temporal_strides=(1, 2, 2, 2), zero_init_residual=False)


# average_clips='score': the ten test clips' logits are averaged (dmcl.txt §4.2 "the average of
# the ten clip predictions"; the released code averages logits). MultiModalityNetworks averages
# clip logits itself and refuses 'prob'; the key also makes a member exported with
# tools/export_student.py average logits under plain MMAction2.
def r2plus1d_recognizer(in_channels, mean, std, to_rgb=False, classes=num_classes):
    return dict(type='Recognizer3D', backbone=r2plus1d_18(in_channels),
                cls_head=dict(type='I3DHead', num_classes=classes, in_channels=512,
                              spatial_type='avg', dropout_ratio=0.5, average_clips='score'),
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=mean, std=std,
                                       to_rgb=to_rgb, format_shape='NCTHW'))


rgb_member = r2plus1d_recognizer(3, [123.675, 116.28, 103.53], [58.395, 57.12, 57.375], True)
depth_member = r2plus1d_recognizer(1, [127.5], [127.5])        # 8-bit depth frames
# deviation: TV-L1 x/y flow (2 channels, ±20 px quantised; tools/data/extract_flow.py), not the
# paper's Liu et al. flow (pyflow): no maintained package provides it (configs/dmcl/README.md)
flow_member = r2plus1d_recognizer(2, [127.5, 127.5], [127.5, 127.5])
dmcl_members = dict(rgb=rgb_member, depth=depth_member, flow=flow_member)
# DMCL Alg. 1 with T = 2, λ = 0.5 (the paper reports T ∈ {2, 5}, λ ∈ {0.5, 1} work best)
dmcl_strategy = dict(type='DMCLLoss', T=2.0, lam=0.5, loss_weight=1.0)
