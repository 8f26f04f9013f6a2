# TSM's standard SSv2 schedule as MML uses it (§3.1.1): batch 64, initial lr 0.025, SGD momentum
# 0.9, weight decay 5e-4, 45 epochs with ×0.1 at 20 and 40 (TSM's released SSv2 recipe), grad
# clip 20. Checkpoints selected on Σ (fused_top1) by the method configs.
max_epochs = 45
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper', clip_grad=dict(max_norm=20, norm_type=2),
                     optimizer=dict(type='SGD', lr=0.025, momentum=0.9, weight_decay=5e-4))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                        milestones=[20, 40], gamma=0.1)]
auto_scale_lr = dict(enable=False, base_batch_size=64)
