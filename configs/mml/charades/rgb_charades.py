# MML "I3D on Charades", stage 1 (mutual-modality-learning.txt Fig. 1/2 green, Tab. 6 "Ordinary
# training from Kinetics"): two I3D-R50 RGB networks trained with plain BCE in one run
# (MutualLearningLoss with loss_weight=0: BCE per class, no KL; the single-label stage 1's
# IndependentMCLLoss has no multi-label form). Initialisation: Kinetics-400 I3D (§3.1.2), set
# with --cfg-options (configs/_base_/datasets/charades_mml.py explains why it is not set here):
#   python tools/train.py configs/mml/charades/rgb_charades.py --cfg-options \
#       model.member_init.rgb.checkpoint=i3d_k400.pth model.member_init.rgb.strict=False \
#       model.member_init.rgb_b.checkpoint=i3d_k400.pth model.member_init.rgb_b.strict=False
# (strict=False: the Kinetics 400-way head does not fit the 157-way one and keeps its init)
#   → work_dirs/rgb_charades (stage 2 reads it)
_base_ = ['../../_base_/default_runtime.py', '../../_base_/datasets/charades_mml.py']
_k400 = dict(checkpoint=_base_.kinetics_i3d_r50, prefix='', strict=False)
model = dict(type='MultiModalityNetworks', multi_label=True,
             members=dict(rgb=_base_.rgb_member, rgb_b=_base_.rgb_member),
             input_keys=dict(rgb='rgb', rgb_b='rgb'),
             strategy=dict(type='MutualLearningLoss', target='peers', loss_weight=0.0),
             member_init=dict(rgb=_k400, rgb_b=_k400) if _base_.kinetics_i3d_r50 else dict())
# the deliverable is the RGB network: best checkpoint on its mAP (Σ's mAP is logged next to it)
default_hooks = dict(checkpoint=dict(save_best='rgb_mAP', rule='greater'))
