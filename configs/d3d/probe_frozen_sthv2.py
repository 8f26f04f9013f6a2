# D3D flow-decoder probe (d3d.txt §3.1-3.2), setting 1 ("freeze the 3D CNN and train the
# decoder"): what motion the distilled RGB student's features hold (D3D Table 1 row "D3D",
# Fig. 3 "D3D"). Row "S3D-G" (the undistilled RGB baseline): probe_frozen_baseline_sthv2.py;
# row "S3D-G+FT": probe_finetune_sthv2.py.
# A per-frame 2D decoder (no temporal convolutions, PWC-Net-like widths 128-128-96-64-32)
# reads the student's layer2 output (R(2+1)D-34: 128 channels, 28×28 for 224² input, close to
# S3D-G's 3A) and predicts (mag, sin θ, cos θ) of the x/y flow, trained with the squared error
# (angle terms weighted by the target magnitude); metric: end-point error in pixels (EPE, lower
# is better).
# Schedule: D3D trains the decoder for 100K iterations, 2 GPUs × 6 clips (otherwise S3D-G's
# hyperparameters, not given); optimiser settings below are ours (AdamW, lr 1e-4, wd 1e-3).
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/d3d_r2plus1d_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py'
]
model = dict(
    type='FlowProbeRecognizer',
    recognizer=_base_.d3d_rgb_model,
    checkpoint='work_dirs/d3d_student_sthv2',   # file or work dir of a DistillRecognizer run
    checkpoint_prefix='student.',               # its weights are stored under student.
    feature_layer=_base_.d3d_probe_layer,
    decoder=dict(type='FlowDecoderProbe', in_channels=_base_.d3d_probe_channels,
                 channels=(128, 128, 96, 64, 32)),
    mode='frozen',
    flow_bound=20.0)                            # flow quantisation bound (pixels)
# batch: 6 per GPU (paper total: 12 = 2 GPUs × 6, D3D §3.2); on 1 GPU use --auto-scale-lr
train_dataloader = dict(batch_size=6, dataset=_base_.train_datasets['rgb_flow'])
auto_scale_lr = dict(enable=False, base_batch_size=12)
val_dataloader = dict(dataset=_base_.test_datasets['rgb_flow'])
test_dataloader = val_dataloader
val_evaluator = dict(type='EPEMetric', _delete_=True)
test_evaluator = val_evaluator
train_cfg = dict(type='IterBasedTrainLoop', max_iters=100000, val_interval=5000)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# deviation: AdamW lr 1e-4, wd 1e-3, cosine (the paper: S3D-G's hyperparameters, not given)
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=1e-3),
    clip_grad=dict(max_norm=5.0, norm_type=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=100000, eta_min=0, by_epoch=False)]
default_hooks = dict(checkpoint=dict(by_epoch=False, interval=5000, save_best='EPE', rule='less'))
log_processor = dict(by_epoch=False)
