# D3D's "spatial stream" without distillation (the S3D-G / RGB row D3D compares with): the
# student's R(2+1)D-34 trained on RGB with cross-entropy only, same data and schedule as
# student_sthv2.py. Also the "without distillation" network of the flow probes (D3D Table 1 rows
# "S3D-G" and "S3D-G+FT": probe_frozen_baseline_sthv2.py, probe_finetune_sthv2.py).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/d3d_r2plus1d_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py', '../_base_/schedules/mm2rgb.py'
]
model = _base_.d3d_rgb_model
train_dataloader = dict(dataset=_base_.train_datasets['rgb'])
val_dataloader = dict(dataset=_base_.test_datasets['rgb'])
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
