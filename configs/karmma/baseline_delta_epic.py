# "Baseline w/ δ" of KARMMA Tab. 1 on epic_kitchens100: the Baseline plus modality dropout (p=0.5) and the
# missing-modality tokens of Eq. 6 (strategy B5); still no distillation.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/karmma_epic.py',
    '../_base_/datasets/epic_kitchens100.py', '../_base_/schedules/karmma_student.py'
]
model = {{_base_.karmma_baseline_delta}}
# batch: 6 = 1 GPU × 6 (paper total: 6, KARMMA §4); use --auto-scale-lr on other GPU counts
train_dataloader = dict(batch_size=6, dataset=dict(pipeline={{_base_.train_pipeline_modality_dropout}}))
default_hooks = dict(checkpoint={{_base_.best_checkpoint}})  # best action_top1 (EPIC) / top1 (SSv2)
