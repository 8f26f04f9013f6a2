# MML pipeline, stage 1 (mutual-modality-learning.txt Fig. 1, green): ONE TSM-R50 RGB network
# from ImageNet weights, trained with plain cross-entropy (IndependentMCLLoss). The paper trains
# the two stage-1 networks separately ("RGB" and "RGB2": different initialisations obtained the
# same way; Tab. 5 / Tab. 7), so run this config twice, with different seeds and work dirs:
#   python tools/train.py configs/mml/rgb_sthv2.py --seed 0 --work-dir work_dirs/rgb_sthv2
#   python tools/train.py configs/mml/rgb_sthv2.py --seed 1 --work-dir work_dirs/rgb2_sthv2
# (stage 2, configs/mml/ml_sthv2.py, reads both; stage 3 starts from stage 2).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/mml_tsm_r50.py',
          '../_base_/datasets/sthv2_mml.py', '../_base_/schedules/mml_tsm.py']
model = dict(type='MultiModalityNetworks',
             members=dict(rgb=_base_.rgb_member_imagenet),
             strategy=dict(type='IndependentMCLLoss'))
# the deliverable is the RGB network (MML Tab. 7 reports RGB top-1; stages 2 and 3 start from
# members.rgb): best checkpoint on its top-1; Σ and Φ are logged next to it
default_hooks = dict(checkpoint=dict(save_best='rgb_top1', rule='greater'))
