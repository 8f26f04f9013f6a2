# DMCL schedule (dmcl.txt §4): SGD, momentum 0.9, initial lr 1e-3, from scratch. The epoch count
# and decay are in the supplementary material (not in our copy): 50 epochs, step decay ×0.1 at
# 30 and 45 here. Checkpoints are selected on Σ (fused_top1; the released code selects on the
# oracle Φ, which cannot be deployed: save_best='oracle_top1' reproduces it).
max_epochs = 50
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='SGD', lr=1e-3, momentum=0.9, weight_decay=1e-4))
param_scheduler = [dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True,
                        milestones=[30, 45], gamma=0.1)]
# (the method configs set default_hooks.checkpoint.save_best='fused_top1')
auto_scale_lr = dict(enable=False, base_batch_size=32)
