# D3D step 1 (d3d.txt §4.1): train the temporal stream = a flow recognizer (TV-L1-style x/y flow,
# 8 frames). Architecture: R(2+1)D-34 on 2-channel flow, the same 3D CNN as the RGB student
# (the paper uses S3D-G for both streams); a 3D CNN rather than TimeSformer because the D3D
# flow-decoder probe needs the student's intermediate [B, C, T, H, W] feature maps, and the two
# streams share one architecture in the paper. Any flow recognizer works as the teacher: e.g.
# the mm2rgb flow TimeSformer (configs/mm2rgb/baseline_flow_sthv2.py), since only logits are
# distilled (set student_sthv2.py's teacher and teacher_ckpt accordingly).
# Schedule: D3D gives none for SSv2 (it reuses S3D-G's Kinetics hyperparameters): we use the
# multimodal → RGB schedule on the same data (20 epochs, AdamW 5e-5, warm-up 10 %, linear decay,
# wd 1e-3, clip 5.0) so the rows of both methods compare.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/d3d_r2plus1d_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py', '../_base_/schedules/mm2rgb.py'
]
model = _base_.d3d_flow_model
train_dataloader = dict(dataset=_base_.train_datasets['flow'])
val_dataloader = dict(dataset=_base_.test_datasets['flow'])
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
