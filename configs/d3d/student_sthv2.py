# D3D step 2 (d3d.txt §4, Eq. 1-2): the RGB spatial stream (R(2+1)D-34) learns from labels and
# from the frozen flow teacher (teacher_flow_sthv2.py, loaded from its checkpoint):
#   L = CE(f_s(x), y) + λ · (1/N) Σ_i (f_s(x_i) − f_t(x_i))²,  λ = 1 (LogitMSE of the
#   pre-softmax outputs, reduction='batchmean': the squared norm of each clip's difference
#   summed over the 174 classes, averaged over the N clips, Eq. 2 read literally; 'mean' would
#   also divide by the classes, i.e. λ = 1/174 of the paper's).
# Teacher and student see the same clip (one pipeline loads rgb + flow with one crop draw); at
# inference the teacher is discarded: RGB only. Distillation at an intermediate layer (D3D's
# optional variant) can be added with feature_distill=dict(loss_feat=dict(...)).
# deviation: Something-Something V2 (the paper trains on Kinetics) and the mm2rgb AdamW
# schedule (the paper: S3D-G's, 140k steps on 56 GPUs × 6); configs/d3d/README.md
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/d3d_r2plus1d_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py', '../_base_/schedules/mm2rgb.py'
]
lambda_d3d = 1.0   # λ of Eq. 1, "λ = 1 conveniently serves as a good setting"
model = dict(
    type='DistillRecognizer',
    student=_base_.d3d_rgb_model,
    teacher=_base_.d3d_flow_model,
    teacher_ckpt='work_dirs/d3d_teacher_flow_sthv2',  # a checkpoint file or the teacher's work dir
    distill_losses=dict(loss_kd=dict(type='LogitMSE', loss_weight=lambda_d3d,
                                     reduction='batchmean')),
    student_modality='rgb',
    teacher_modality='flow')
train_dataloader = dict(dataset=_base_.train_datasets['rgb_flow'])
val_dataloader = dict(dataset=_base_.test_datasets['rgb'])
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
