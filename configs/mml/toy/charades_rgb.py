# Toy "I3D on Charades" stage 1 (configs/mml/charades/rgb_charades.py on CPU): two tiny I3D RGB
# networks trained with BCE alone on the toy multi-label list (configs/_base_/datasets/
# toy_charades_mml.py; write the list first):
#   python tools/data/charades_to_list.py --toy-from-sthv2 data/toy/sthv2
#   python tools/train.py configs/mml/toy/charades_rgb.py   # → work_dirs/charades_rgb
_base_ = ['../charades/rgb_charades.py', '../../_base_/datasets/toy_charades_mml.py',
          '../../_base_/datasets/toy_sthv2_dmcl.py']
model = dict(members=dict(_delete_=True, rgb=_base_.toy_ch_rgb_member,
                          rgb_b=_base_.toy_ch_rgb_member))
train_dataloader = _base_.toy_ch_train_dataloader
val_dataloader = _base_.toy_ch_val_dataloader
test_dataloader = val_dataloader
val_evaluator = _base_.toy_ch_evaluator
test_evaluator = val_evaluator
train_cfg = _base_.toy_train_cfg
optim_wrapper = dict(_delete_=True, **_base_.toy_optim_wrapper)
param_scheduler = _base_.toy_param_scheduler
default_hooks = dict(_base_.toy_default_hooks,
                     checkpoint=dict(interval=5, max_keep_ckpts=1, save_best='fused_mAP',
                                     rule='greater'))
