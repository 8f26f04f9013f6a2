# KARMMA teacher schedule (§4 "Implementation details"): 100 epochs, AdamW, lr 1e-5 linearly
# increased to 5e-4 over the first 10 epochs, then cosine decay back to 1e-5; weight decay
# 0.05; gradient clipping 1.0. (Batch size 32 is set in the dataloader.)
max_epochs = 100
warmup_epochs = 10
base_lr = 5e-4
min_lr = 1e-5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=1.0, norm_type=2))
param_scheduler = [
    dict(type='LinearLR', start_factor=min_lr / base_lr, end_factor=1.0, by_epoch=True,
         begin=0, end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=min_lr,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
# lr 5e-4 is for the paper's total batch of 32: --auto-scale-lr scales it to the run's total
# (GPUs × per-GPU batch_size) linearly.
auto_scale_lr = dict(enable=False, base_batch_size=32)
