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
# the Charades toy keeps its own schedule (SGD, lr 0.05, cosine over 20 epochs), not the
# AdamW one that toy_sthv2_dmcl.py sets for the DMCL / MML SSv2 toy tables
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=20, val_begin=1, val_interval=5)
optim_wrapper = dict(_delete_=True, type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=0.05, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=20, eta_min=0, by_epoch=True, begin=0,
                        end=20, convert_to_iter_based=True)]
default_hooks = dict(_base_.toy_default_hooks, logger=dict(interval=9),
                     checkpoint=dict(interval=5, max_keep_ckpts=1, save_best='rgb_mAP',
                                     rule='greater'))
