# Toy version of ../teacher_epic.py: same method and settings, tiny models and the toy EPIC-format
# data of tools/data/generate_toy_dataset.py; runs on a CPU in minutes.
_base_ = ['../teacher_epic.py', '../../_base_/datasets/toy_epic.py']
model = {{_base_.toy_teacher}}
train_dataloader = dict(
    batch_size=8, num_workers=2, persistent_workers=True, dataset={{_base_.toy_train_dataset}})
val_dataloader = dict(
    batch_size=16, num_workers=2, persistent_workers=False, dataset={{_base_.toy_val_dataset}})
test_dataloader = val_dataloader
train_cfg = dict(max_epochs={{_base_.toy_max_epochs}}, val_interval=20)
param_scheduler = {{_base_.toy_schedule}}
optim_wrapper = dict(optimizer=dict(lr={{_base_.toy_lr}}))
default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=20, max_keep_ckpts=1))
