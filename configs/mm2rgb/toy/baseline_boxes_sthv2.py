# Toy version of the paper config in _base_: same method and settings, tiny models, the toy
# SSv2 data and a short schedule (deviations: configs/_base_/datasets/toy_sthv2_mm2rgb.py).
_base_ = ['../baseline_boxes_sthv2.py', '../../_base_/datasets/toy_sthv2_mm2rgb.py']
model = _base_.toy_boxes_model
train_dataloader = dict(_base_.toy_train_dataloader,
                        dataset=_base_.toy_train_datasets['boxes'])
val_dataloader = dict(_base_.toy_val_dataloader, dataset=_base_.toy_test_datasets['boxes'])
test_dataloader = val_dataloader
# 3x the toy schedule (90 epochs): STLT needs it on this data (toy deviation, see the base file)
train_cfg = dict(max_epochs=_base_.toy_boxes_max_epochs, val_interval=30)
param_scheduler = _base_.toy_boxes_param_scheduler
optim_wrapper = dict(optimizer=dict(lr=_base_.toy_lr))
default_hooks = _base_.toy_default_hooks
