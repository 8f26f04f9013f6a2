# Toy MML pipeline, stage 1: two slim ResNet3d RGB networks trained with plain CE on the toy SSv2
# data (toy deviations: configs/_base_/datasets/toy_sthv2_dmcl.py; the same small 3D CNN for
# every network of every row instead of TSM-R50, 2-channel flow instead of 5 stacked pairs, no
# ImageNet weights, the AdamW schedule of that file for every stage).
_base_ = ['../../dmcl/toy/dmcl_sthv2.py']
model = dict(members=dict(_delete_=True, rgb=_base_.toy_rgb_member, rgb_b=_base_.toy_rgb_member),
             input_keys=dict(rgb='rgb', rgb_b='rgb'),
             strategy=dict(_delete_=True, type='IndependentMCLLoss'))
