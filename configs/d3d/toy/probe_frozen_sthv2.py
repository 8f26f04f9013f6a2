# Toy version of the paper config in _base_: same method and settings, slim ResNet3d streams, the
# toy SSv2 data and a short schedule (deviations: configs/_base_/datasets/toy_sthv2_mm2rgb.py).
_base_ = ['../probe_frozen_sthv2.py', '../../_base_/datasets/toy_sthv2_mm2rgb.py']
# 10 epochs of the toy training set instead of 100K iterations
model = dict(recognizer=_base_.toy_d3d_rgb_model, checkpoint='work_dirs/toy_d3d_student_sthv2',
             decoder=dict(in_channels=_base_.toy_d3d_probe_channels, channels=(32, 32, 16)))
train_dataloader = dict(_base_.toy_train_dataloader,
                        dataset=_base_.toy_train_datasets['rgb_flow'])
val_dataloader = dict(_base_.toy_val_dataloader, dataset=_base_.toy_test_datasets['rgb_flow'])
test_dataloader = val_dataloader
train_cfg = dict(_delete_=True, type='EpochBasedTrainLoop', max_epochs=10, val_interval=10)
optim_wrapper = dict(optimizer=dict(lr=1e-3))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, eta_min=0, by_epoch=True,
                        convert_to_iter_based=True)]
default_hooks = dict(logger=dict(interval=9), checkpoint=dict(by_epoch=True, interval=10,
                                                              max_keep_ckpts=1))
log_processor = dict(by_epoch=True)
