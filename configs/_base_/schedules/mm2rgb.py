# Multimodal → RGB distillation schedule (multimodal-teacher-rgb-student.txt, "Experimental
# setup"): every model (baselines, students) is trained for 20 epochs with AdamW, a peak learning
# rate of 5e-5 reached by a linear increase over the first 10 % of training and decreased
# linearly to 0.0 by the end, weight decay 1e-3 and gradient clipping 5.0. Omnivore trains 3× as
# long (60 epochs, configs/mm2rgb/omnivore_sthv2.py). The batch size is not given in the paper
# (set in the dataset base).
max_epochs = 20
warmup_ratio = 0.1                               # "linearly increased for the first 10 %"
warmup_epochs = max_epochs * warmup_ratio        # 2 epochs
base_lr = 5e-5                                   # peak learning rate
warmup_start_factor = 1e-3                       # LinearLR needs a factor > 0: starts at 5e-8
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=1e-3),
    clip_grad=dict(max_norm=5.0, norm_type=2))
param_scheduler = [
    # linear warm-up over the first 10 % of training (per iteration)
    dict(type='LinearLR', start_factor=warmup_start_factor, end_factor=1.0, by_epoch=True,
         begin=0, end=warmup_epochs, convert_to_iter_based=True),
    # then linear decay to 0.0 at the end of training
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
# The paper gives no batch size: 32 = 4 GPUs × 8 (configs/_base_/datasets/sthv2_mm2rgb.py) is
# this project's assumption for the peak lr 5e-5; --auto-scale-lr scales it to the run's total.
# D3D configs share this schedule (D3D trains S3D-G on Kinetics with 56 GPUs × 6 = 336 clips and
# S3D-G's hyperparameters, not given: not transferable to this AdamW schedule).
auto_scale_lr = dict(enable=False, base_batch_size=32)
