# "Baseline" of KARMMA Tab. 1 on sthv2: the student's architecture trained end-to-end with
# cross-entropy only: no distillation, no modality dropout, no missing-modality tokens
# (strategy 'none': a missing modality's tokens are zeros).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/karmma_ssv2.py',
    '../_base_/datasets/sthv2.py', '../_base_/schedules/karmma_student.py'
]
model = {{_base_.karmma_baseline}}
# batch: 6 = 1 GPU × 6 (paper total: 6, KARMMA §4); use --auto-scale-lr on other GPU counts
train_dataloader = dict(batch_size=6)
default_hooks = dict(checkpoint={{_base_.best_checkpoint}})  # best action_top1 (EPIC) / top1 (SSv2)
