# Toy version of configs/dmcl/dmcl_nwucla.py (DMCL, T = 2, λ = 0.5): slim ResNet3d RGB, depth
# and flow networks (toy: the same small 3D CNN instead of R(2+1)D-18 for every modality and
# every scheme) on the toy SSv2 data with depth (deviations and schedule:
# configs/_base_/datasets/toy_sthv2_dmcl.py).  python tools/train.py configs/dmcl/toy/dmcl_sthv2.py
_base_ = ['../dmcl_nwucla.py', '../../_base_/datasets/toy_sthv2_dmcl.py']
model = dict(members=dict(_delete_=True, **_base_.toy_members))
train_dataloader = _base_.toy_train_dataloader
val_dataloader = _base_.toy_val_dataloader
test_dataloader = val_dataloader
train_cfg = _base_.toy_train_cfg
optim_wrapper = dict(_delete_=True, **_base_.toy_optim_wrapper)
param_scheduler = _base_.toy_param_scheduler
default_hooks = _base_.toy_default_hooks
