# Toy version of the paper config in _base_: same method and settings, slim ResNet3d streams, the
# toy SSv2 data and a short schedule (deviations: configs/_base_/datasets/toy_sthv2_mm2rgb.py).
_base_ = ['../student_sthv2.py', '../../_base_/datasets/toy_sthv2_mm2rgb.py']
model = dict(student=_base_.toy_d3d_rgb_model, teacher=_base_.toy_d3d_flow_model,
             teacher_ckpt='work_dirs/toy_d3d_teacher_flow_sthv2')
train_dataloader = dict(_base_.toy_train_dataloader,
                        dataset=_base_.toy_train_datasets['rgb_flow'])
val_dataloader = dict(_base_.toy_val_dataloader, dataset=_base_.toy_test_datasets['rgb'])
test_dataloader = val_dataloader
train_cfg = dict(max_epochs=_base_.toy_max_epochs, val_interval=10)
param_scheduler = _base_.toy_param_scheduler
optim_wrapper = dict(optimizer=dict(lr=_base_.toy_lr))
default_hooks = _base_.toy_default_hooks
