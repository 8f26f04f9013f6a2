# Models of multimodal → RGB distillation on Something-Something V2 / Something-Else
# (multimodal-teacher-rgb-student.txt, "Methods"): one model per modality.
#   rgb:   TimeSformer ViT-B/16, divided space-time attention, 8 frames, 224², ImageNet-pretrained;
#   flow:  the same pre-trained TimeSformer applied to 2-channel (x, y) flow frames, its patch
#          embedding inflated from the RGB kernel (channel mean, copied twice; see flow_model);
#   boxes: STLT (Radevski et al. [15]) on object / hand boxes and categories (BoxRecognizer).
# Each recognizer reads its own modality of the packed multimodal batch (SelectModality) and
# normalises it itself, so the same configs serve as baselines, LogitEnsemble members,
# DistillRecognizer students and teachers.
num_classes = 174
num_frames = 8          # = clip_len of configs/_base_/datasets/sthv2_mm2rgb.py
stlt_max_boxes = 4      # = max_boxes of configs/_base_/datasets/sthv2_mm2rgb.py

# ImageNet-pretrained ViT-B/16 in MMAction2's TimeSformer format: the file MMAction2's own
# TimeSformer configs start from (open-mmlab/mmaction2 configs/recognition/timesformer/
# timesformer_spaceOnly_8xb8-8x32x1-15e_kinetics400-rgb.py, backbone.pretrained). TimeSformer
# downloads it at init_weights() into the torch hub cache (~/.cache/torch/hub/checkpoints); on a
# machine without internet put the file somewhere and point this variable at it (the path is
# baked into the model configs below). Its keys are the ViT's own (no prefix).
vit_b_ckpt = ('https://download.openmmlab.com/mmaction/recognition/timesformer/'
              'vit_base_patch16_224.pth')

rgb_preprocessor = dict(
    type='SelectModality', modality='rgb',
    preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5, 127.5],
                      std=[127.5, 127.5, 127.5], to_rgb=True, format_shape='NCTHW'))
# flow: uint8 quantised with bound 20 px (127.5 = zero flow) → [-1, 1]
# deviation: flow computed from the videos by tools/data/extract_flow.py (TV-L1, ±20 px, x/y);
# the paper uses the optical flow released by its ref. [16] (configs/mm2rgb/README.md)
flow_preprocessor = dict(
    type='SelectModality', modality='flow',
    preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5], std=[127.5, 127.5],
                      format_shape='NCTHW'))
# boxes: normalised x1, y1, x2, y2, category, valid flag: only stacked
boxes_preprocessor = dict(
    type='SelectModality', modality='boxes',
    preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW'))

timesformer_vit_b = dict(
    type='TimeSformer', num_frames=num_frames, img_size=224, patch_size=16, embed_dims=768,
    num_heads=12, num_transformer_layers=12, in_channels=3,
    attention_type='divided_space_time', dropout_ratio=0.0,
    pretrained=vit_b_ckpt)  # TimeSformer converts ViT keys and copies spatial → temporal attn
timesformer_head = dict(type='TimeSformerHead', num_classes=num_classes, in_channels=768,
                        average_clips='prob')

rgb_model = dict(
    type='Recognizer3D',
    backbone=timesformer_vit_b,
    cls_head=timesformer_head,
    data_preprocessor=rgb_preprocessor)

# Flow: the same ViT-B with its patch embedding inflated to 2 input channels (the RGB kernel's
# channel mean, copied twice; MML §2.4 / InflatedPretrained). MMAction2 1.1.0's Recognizer3D takes
# no init_cfg and TimeSformer is a plain nn.Module, so an InflatedPretrained init_cfg cannot be
# attached to its patch embedding by config; TimeSformer's own `pretrained` loading would skip
# the 2-channel kernel (shape mismatch) and leave it random. So the flow model loads an inflated
# copy of the ViT-B checkpoint, made once with the plugin's inflate_input_channels:
#   mkdir -p checkpoints && python -c "import torch; from mmengine.runner import \
#   CheckpointLoader; from mmdistill_plugin.models.utils.inflated_pretrained import \
#   inflate_input_channels as f; c = CheckpointLoader.load_checkpoint('https://download.\
#   openmmlab.com/mmaction/recognition/timesformer/vit_base_patch16_224.pth', 'cpu'); \
#   s = c.get('state_dict', c); k = 'patch_embed.projection.weight'; s[k] = f(s[k], 2); \
#   torch.save(c, 'checkpoints/vit_base_patch16_224_flow2ch.pth')"
# Without that file, building the flow model fails with FileNotFoundError naming it (never a
# silent random start).
# deviation: the paper applies "the same pre-trained TimesFormer" to flow frames; its patch
# embedding takes 3 channels, ours 2 (x, y): inflated from the RGB kernel
vit_b_flow_ckpt = 'checkpoints/vit_base_patch16_224_flow2ch.pth'
flow_model = dict(
    type='Recognizer3D',
    backbone=dict(timesformer_vit_b, in_channels=2, pretrained=vit_b_flow_ckpt),
    cls_head=timesformer_head,
    data_preprocessor=flow_preprocessor)

# STLT-12 (4 spatial + 8 temporal layers, 768-d, 12 heads), trained from scratch as in [15].
boxes_model = dict(
    type='BoxRecognizer',
    backbone=dict(type='STLT', embed_dims=768, num_spatial_layers=4, num_temporal_layers=8,
                  num_heads=12, max_boxes=stlt_max_boxes, max_frames=num_frames, dropout=0.1),
    cls_head=dict(type='MultiHeadMLP', in_channels=768, num_classes=num_classes),
    data_preprocessor=boxes_preprocessor)

# Ensemble-teacher members (LogitEnsemble): each baseline from its own checkpoint, a file or a
# work dir (its last checkpoint). Paths are those tools/train.py gives the baseline configs.
baseline_members = dict(
    rgb=dict(model=rgb_model, checkpoint='work_dirs/baseline_rgb_sthv2', modality='rgb'),
    flow=dict(model=flow_model, checkpoint='work_dirs/baseline_flow_sthv2', modality='flow'),
    boxes=dict(model=boxes_model, checkpoint='work_dirs/baseline_boxes_sthv2', modality='boxes'))
