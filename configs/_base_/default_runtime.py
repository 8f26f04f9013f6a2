# Runtime shared by every mmdistill config (MMAction2's default_runtime, plus the plugin import
# and the settings that make multi-process training work with or without CUDA).
# AtomicCheckpointHook = mmengine's CheckpointHook with atomic saves and a --resume that skips a
# torn last checkpoint (docs/reliability.md); configs override its arguments, not its type.
custom_imports = dict(imports=['mmdistill_plugin'], allow_failed_imports=False)
default_scope = 'mmaction'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='AtomicCheckpointHook', interval=1, save_best='auto', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'))
# A label >= a head's num_classes fails with the head's name and count (not an IndexError); a
# NaN / inf loss or gradient stops training naming the iteration and the batch's samples, before
# a checkpoint is written from it (docs/reliability.md). A config setting its own custom_hooks
# lists both again.
custom_hooks = [dict(type='LabelRangeCheckHook'), dict(type='FiniteLossHook')]

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # nccl on GPUs; without CUDA the plugin switches to gloo (or set backend='gloo').
    dist_cfg=dict(backend='nccl'))

# device_ids=None lets DDP wrap a CPU model as well as a single-GPU one.
model_wrapper_cfg = dict(
    type='MMDistributedDataParallel', device_ids=None, broadcast_buffers=False)

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='ActionVisualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
