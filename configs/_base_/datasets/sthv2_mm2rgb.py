# Something-Something V2 / Something-Else data for multimodal → RGB distillation
# (multimodal-teacher-rgb-student.txt, "Experimental setup") and D3D on SSv2: rgb video, x/y
# optical flow and Something-Else boxes, 8 frames.
#   training: 8 frames sampled at random (one random frame per uniform segment, TSN-style
#             UniformSample), random spatial crop (one draw for every modality and the boxes,
#             so teacher and student see the same view) and colour jitter (rgb only);
#   testing:  8 frames at regular intervals (segment centres), one centre crop, no test-time
#             augmentation (no multi-crop / multi-clip, no flip).
# No horizontal flip anywhere: SSv2 classes name directions ("from left to right").
# The crop (MMAction2's RandomResizedCrop defaults) and jitter strengths are not given in the
# paper: MMAction2's defaults.
#
# Layout under data_root (see configs/_base_/datasets/sthv2.py, tools/data/extract_flow.py):
#   videos/<id>.webm   flow/<id>/{x,y}_00001.jpg   annotations/{labels,train,validation}.json
#   annotations/annotations.json (Something-Else boxes)
# Something-Else compositional split: its train/validation JSONs (SSv2 format) in
#   annotations/compositional/; select them with
#   --cfg-options \
#     train_dataloader.dataset.ann_file=data/sthv2/annotations/compositional/train.json \
#     val_dataloader.dataset.ann_file=data/sthv2/annotations/compositional/validation.json \
#     test_dataloader.dataset.ann_file=data/sthv2/annotations/compositional/validation.json
#
# Exported: ``train_datasets[name]`` / ``test_datasets[name]`` for name in rgb, flow, boxes,
# rgb_flow, rgb_boxes, rgb_flow_boxes (each loads only those modalities) and omnivore (training:
# every modality, one sampled per video; test: rgb only).
dataset_type = 'SomethingSomethingV2Dataset'
data_root = 'data/sthv2'
ann_root = f'{data_root}/annotations'
labels_file = f'{ann_root}/labels.json'
boxes_file = f'{ann_root}/annotations.json'
data_prefix = dict(video=f'{data_root}/videos', flow=f'{data_root}/flow')
sthelse_ann_root = f'{ann_root}/compositional'  # Something-Else compositional split
clip_len = 8            # "We randomly sample 8 frames during training"
img_size = 224          # ViT-B/16 input
short_side = 256        # resize before the random crop (train) / centre crop (test)
max_boxes = 4           # box slots per frame (objects + hand), as configs/_base_/datasets/sthv2.py

_loaders = dict(rgb=dict(type='LoadRGBFrames'), flow=dict(type='LoadFlowFrames'),
                boxes=dict(type='LoadBoxes', max_boxes=max_boxes))


# Boxes alone: no frames to crop against (the spatial transforms need a visual reference), so
# STLT sees the full-frame layout (boxes normalised by the frame size), train and test.
def _boxes_pipeline(test_mode):
    return [dict(type='UniformSample', clip_len=clip_len, num_clips=1, test_mode=test_mode),
            _loaders['boxes'], dict(type='PackMultimodalInputs')]


# Boxes next to frames (the rgb_boxes / rgb_flow_boxes teachers and students): the paper has
# "the student and the teacher strictly receive the same views of the data ... temporal and
# spatial crops", so by default the crop moves the boxes too (boxes_follow_crop = True) and the
# boxes member, trained on full-frame layouts above, sees cropped layouts when it teaches
# (up to ~3.5× zoomed: crop area 0.08-1). The authors' reference code instead gives its layout
# teacher the full-frame layout of the same frames: boxes_follow_crop = False (crop_boxes=False
# in the crops below) does that. configs/mm2rgb/README.md, "Deviations from the paper".
# deviation (of the boxes member's training, not of the text): it is trained on full-frame
# layouts but meets cropped ones when it teaches
boxes_follow_crop = True


def _train_pipeline(mods, crop=dict(type='MultimodalRandomResizedCrop'),
                    crop_boxes=boxes_follow_crop):
    if 'rgb' not in mods and 'flow' not in mods:
        return _boxes_pipeline(test_mode=False)
    return [
        dict(type='UniformSample', clip_len=clip_len, num_clips=1),
        *[_loaders[m] for m in mods],
        dict(type='MultimodalResize', scale=(-1, short_side)),
        dict(crop, crop_boxes=crop_boxes) if 'boxes' in mods else crop,
        dict(type='MultimodalResize', scale=(img_size, img_size), keep_ratio=False),
        dict(type='MultimodalColorJitter'),     # rgb only; a no-op without rgb
        dict(type='PackMultimodalInputs'),
    ]


def _test_pipeline(mods):
    if 'rgb' not in mods and 'flow' not in mods:
        return _boxes_pipeline(test_mode=True)
    return [
        dict(type='UniformSample', clip_len=clip_len, num_clips=1, test_mode=True),
        *[_loaders[m] for m in mods],
        dict(type='MultimodalResize', scale=(-1, img_size)),
        dict(type='MultimodalCenterCrop', crop_size=img_size,
             **(dict(crop_boxes=boxes_follow_crop) if 'boxes' in mods else {})),
        dict(type='PackMultimodalInputs'),
    ]


def _dataset(mods, split, pipeline, test_mode=False):
    return dict(type=dataset_type, ann_file=f'{ann_root}/{split}.json', labels_file=labels_file,
                boxes_file=boxes_file if 'boxes' in mods else None, data_prefix=data_prefix,
                modalities=tuple(mods), rgb_source='video', video_ext='.webm',
                pipeline=pipeline, test_mode=test_mode)


_sets = dict(rgb=('rgb', ), flow=('flow', ), boxes=('boxes', ), rgb_flow=('rgb', 'flow'),
             rgb_boxes=('rgb', 'boxes'), rgb_flow_boxes=('rgb', 'flow', 'boxes'))
train_datasets = {k: _dataset(v, 'train', _train_pipeline(v)) for k, v in _sets.items()}
test_datasets = {k: _dataset(v, 'validation', _test_pipeline(v), True) for k, v in _sets.items()}

# Omnivore (Table 1): one model, one modality sampled per video during training; boxes rendered
# as 2-px rectangles on a white canvas (hand blue, object red) after the shared crop; the chosen
# modality is written to 'rgb' as a 3-channel sequence (flow → (x, y, 0)); only 'rgb' is packed.
omnivore_train_pipeline = [
    *_train_pipeline(('rgb', 'flow', 'boxes'), crop_boxes=True)[:-1],
    dict(type='RenderBoxes', thickness=2),
    dict(type='SampleOneModality', probs=dict(rgb=1 / 3, flow=1 / 3, boxes_image=1 / 3),
         out_key='rgb', test_modality='rgb'),
    dict(type='PackMultimodalInputs', modalities=('rgb', )),
]
train_datasets['omnivore'] = _dataset(('rgb', 'flow', 'boxes'), 'train', omnivore_train_pipeline)
test_datasets['omnivore'] = test_datasets['rgb']   # evaluated on RGB frames only

# Batch size: not given in the paper (ViT-B, 8 frames: 8 clips per GPU, e.g. 4 GPUs = 32).
# batch: 8 per GPU; 32 = 4 GPUs × 8 is the total auto_scale_lr assumes (schedules/mm2rgb.py,
# paper total: not given); use --auto-scale-lr on other GPU counts
train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=train_datasets['rgb'])
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=test_datasets['rgb'])
test_dataloader = val_dataloader
val_evaluator = dict(type='MultiHeadAccMetric', topk=(1, 5))
test_evaluator = val_evaluator
# The checkpoint kept as best: highest top-1 (the papers' Tab. 1 metric), written as
# best_top1_epoch_<N>.pth; each config sets default_hooks = dict(checkpoint=best_checkpoint)
# (a base cannot set default_hooks next to default_runtime.py).
best_checkpoint = dict(save_best='top1', rule='greater')
