# Something-Something V2 with video (webm), optical flow (x/y frames from
# tools/data/extract_flow.py) and Something-Else object boxes, layout under data_root:
#   videos/<id>.webm   flow/<id>/{x,y}_00001.jpg   annotations/{labels,train,validation}.json
#   annotations/annotations.json  (Something-Else boxes)
# No horizontal flip: several SSv2 classes name a direction ("from left to right").
dataset_type = 'SomethingSomethingV2Dataset'
data_root = 'data/sthv2'
ann_root = f'{data_root}/annotations'
labels_file = f'{ann_root}/labels.json'
boxes_file = f'{ann_root}/annotations.json'
data_prefix = dict(video=f'{data_root}/videos', flow=f'{data_root}/flow')
modalities = ('rgb', 'flow', 'boxes')
clip_len = 16
max_boxes = 4

load_modalities = [
    dict(type='LoadRGBFrames'),
    dict(type='LoadFlowFrames'),
    dict(type='LoadBoxes', max_boxes=max_boxes),
]
train_pipeline = [
    dict(type='UniformSample', clip_len=clip_len, num_clips=1),
    *load_modalities,
    dict(type='MultimodalResize', scale=(-1, 256)),
    dict(type='MultimodalRandomResizedCrop'),
    dict(type='MultimodalResize', scale=(224, 224), keep_ratio=False),
    dict(type='PackMultimodalInputs'),
]
train_pipeline_modality_dropout = [
    *train_pipeline[:-1],
    dict(type='ModalityDropout', p=0.5, keep_at_least_one=True),
    dict(type='PackMultimodalInputs'),
]
val_pipeline = [
    dict(type='UniformSample', clip_len=clip_len, num_clips=1, test_mode=True),
    *load_modalities,
    dict(type='MultimodalResize', scale=(-1, 224)),
    dict(type='MultimodalCenterCrop', crop_size=224),
    dict(type='PackMultimodalInputs'),
]
test_pipeline = val_pipeline

common = dict(type=dataset_type, labels_file=labels_file, boxes_file=boxes_file,
              data_prefix=data_prefix, modalities=modalities, rgb_source='video',
              video_ext='.webm')
train_dataloader = dict(
    batch_size=32,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(**common, ann_file=f'{ann_root}/train.json', pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(**common, ann_file=f'{ann_root}/validation.json', pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiHeadAccMetric', topk=(1, 5))
test_evaluator = val_evaluator
# The checkpoint kept as best: highest top-1 (KARMMA Tab. 1 on SSv2), written as
# best_top1_epoch_<N>.pth; each config sets default_hooks = dict(checkpoint=best_checkpoint)
# (a base cannot set default_hooks next to default_runtime.py).
best_checkpoint = dict(save_best='top1', rule='greater')
