# DMCL (dmcl.txt Alg. 1, Tab. 1 "Our DMCL") on UWA3D Multiview II (train views 1-2, test views 3-4):
# RGB, depth and flow R(2+1)D-18
# networks trained together; each modality, Σ and Φ reported by MultiModalityMetric.
#   python tools/train.py configs/dmcl/dmcl_uwa3dii.py
#   python tools/test.py configs/dmcl/dmcl_uwa3dii.py work_dirs/dmcl_uwa3dii/best_fused_top1_*.pth \
#       --cfg-options "test_evaluator.modalities=['rgb']"       # any subset of the modalities
# Data: data/uwa3dii/{rgb,depth,flow}/<name>/ frame folders and {train,val}.txt lists
# ("<name> <total_frames> <label>", MultimodalFrameListDataset).
_base_ = ['../_base_/default_runtime.py', '../_base_/models/dmcl_r2plus1d.py',
          '../_base_/datasets/dmcl_frames.py', '../_base_/schedules/dmcl.py']
num_classes = 30
data_root = 'data/uwa3dii'
model = dict(type='MultiModalityNetworks',
             members={k: dict(v, cls_head=dict(v['cls_head'], num_classes=num_classes))
                      for k, v in _base_.dmcl_members.items()},
             strategy=_base_.dmcl_strategy)
_prefix = dict(rgb=f'{data_root}/rgb', depth=f'{data_root}/depth', flow=f'{data_root}/flow')
train_dataloader = dict(dataset=dict(_base_.frame_dataset, ann_file=f'{data_root}/train.txt',
                                     data_prefix=_prefix, pipeline=_base_.train_pipeline))
val_dataloader = dict(dataset=dict(_base_.frame_dataset, ann_file=f'{data_root}/val.txt',
                                   data_prefix=_prefix, pipeline=_base_.test_pipeline,
                                   test_mode=True))
test_dataloader = val_dataloader
# checkpoints selected on Σ (the released code: oracle Φ, 'oracle_top1')
default_hooks = dict(checkpoint=dict(save_best='fused_top1', rule='greater'))
