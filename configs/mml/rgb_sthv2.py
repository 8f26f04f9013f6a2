# MML pipeline, stage 1 (mutual-modality-learning.txt Fig. 1, green): two TSM-R50 RGB networks
# from ImageNet weights, trained with plain cross-entropy (IndependentMCLLoss) in one run.
#   python tools/train.py configs/mml/rgb_sthv2.py     # → work_dirs/rgb_sthv2 (stage 2 reads it)
_base_ = ['../_base_/default_runtime.py', '../_base_/models/mml_tsm_r50.py',
          '../_base_/datasets/sthv2_mml.py', '../_base_/schedules/mml_tsm.py']
model = dict(type='MultiModalityNetworks',
             members=dict(rgb=_base_.rgb_member_imagenet, rgb_b=_base_.rgb_member_imagenet),
             input_keys=dict(rgb='rgb', rgb_b='rgb'),
             strategy=dict(type='IndependentMCLLoss'))
# the deliverable is the RGB network (MML Tab. 7 reports RGB top-1; stages 2 and 3 start from
# members.rgb): best checkpoint on its top-1; Σ and Φ are logged next to it
default_hooks = dict(checkpoint=dict(save_best='rgb_top1', rule='greater'))
