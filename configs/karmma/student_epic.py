# KARMMA student (KARMMA_S, Tab. 1) on epic_kitchens100: the frozen teacher (teacher_epic.py, loaded from
# its own checkpoint) distils into the smaller student; modality dropout p=0.5 reaches the
# student only; strategy B5; loss γ·CE + λ·KL (Eq. 4–5), γ=0.7 (student head), λ=0.3.
# Test with any modality combination, e.g.
#   --cfg-options model.student.test_cfg.drop_modalities="['flow']"
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/karmma_epic.py',
    '../_base_/datasets/epic_kitchens100.py', '../_base_/schedules/karmma_student.py'
]
teacher_ckpt = 'work_dirs/teacher_epic'  # a checkpoint file, or a work dir (its last checkpoint)
model = dict(
    type='DistillRecognizer',
    student={{_base_.karmma_student}},
    teacher={{_base_.karmma_teacher}},
    teacher_ckpt=teacher_ckpt,
    distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=1.0, loss_weight=0.3)))  # λ
# batch: 6 = 1 GPU × 6 (paper total: 6, KARMMA §4); use --auto-scale-lr on other GPU counts
train_dataloader = dict(batch_size=6, dataset=dict(pipeline={{_base_.train_pipeline_modality_dropout}}))
default_hooks = dict(checkpoint={{_base_.best_checkpoint}})  # best action_top1 (EPIC) / top1 (SSv2)
