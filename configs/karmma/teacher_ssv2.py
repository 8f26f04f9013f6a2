# KARMMA teacher (KARMMA_T, Tab. 1) on sthv2: frozen pre-trained feature extractors, trainable
# Θ-Average → fusion block → multi-head MLP; loss α·CE + β·InfoNCE (Eq. 1–3), α=0.7, β=0.3,
# τ=0.1. Supply the feature extractors' checkpoints through each backbone's init_cfg.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/karmma_ssv2.py',
    '../_base_/datasets/sthv2.py', '../_base_/schedules/karmma_teacher.py'
]
model = {{_base_.karmma_teacher}}
# batch: 32 = 1 GPU × 32 (paper total: 32, KARMMA §4); use --auto-scale-lr on other GPU counts
train_dataloader = dict(batch_size=32)
default_hooks = dict(checkpoint={{_base_.best_checkpoint}})  # best action_top1 (EPIC) / top1 (SSv2)
