# KARMMA models for Something-Something V2 (V = rgb, F = flow, D = object-detection boxes),
# paper §4: teacher Swin-B (V, F, frozen) + STLT-12 (D, frozen); student Swin-T (V, F) +
# STLT-9 (D). 16-frame 224×224 clips give Swin 8×7×7 = 392 tokens → Θ-Average → 300.
# STLT-12 = 4 spatial + 8 temporal layers, STLT-9 = 3 + 6 (our reading of
# "STLT with 12 / 9 layers"). STLT yields one token per frame (16 frames → 16 tokens).
karmma_modalities = ('rgb', 'flow', 'boxes')
karmma_num_classes = 174
karmma_theta = 300
karmma_num_frames = 16
karmma_max_boxes = 4

karmma_data_preprocessor = dict(
    type='MultiModalDataPreprocessor',
    preprocessors=dict(
        rgb=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                 std=[58.395, 57.12, 57.375], format_shape='NCTHW'),
        flow=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5], std=[127.5, 127.5],
                  format_shape='NCTHW'),
        boxes=dict(type='ActionDataPreprocessor', format_shape='NCHW')))

swin_b = dict(type='SwinTransformer3D', arch='base', pretrained=None, pretrained2d=False,
              patch_size=(2, 4, 4), window_size=(8, 7, 7), drop_path_rate=0.0)
swin_t = dict(type='SwinTransformer3D', arch='tiny', pretrained=None, pretrained2d=False,
              patch_size=(2, 4, 4), window_size=(8, 7, 7), drop_path_rate=0.1)

karmma_teacher = dict(
    type='MultimodalRecognizer',
    modalities=karmma_modalities,
    backbones=dict(
        rgb=dict(**swin_b, in_channels=3),
        flow=dict(**swin_b, in_channels=2),
        boxes=dict(type='STLT', embed_dims=768, num_spatial_layers=4, num_temporal_layers=8,
                   num_heads=12, max_boxes=karmma_max_boxes, max_frames=karmma_num_frames)),
    frozen_backbones=True,
    neck=dict(type='ThetaAverage', theta=karmma_theta),
    fusion=dict(
        type='KARMMAFusionBlock',
        in_channels=dict(rgb=1024, flow=1024, boxes=768),
        num_tokens=dict(rgb=karmma_theta, flow=karmma_theta, boxes=karmma_num_frames),
        embed_dims=768, num_layers=2, num_heads=8, attn_drop=0.3, drop=0.0,
        strategy='B5'),
    cls_head=dict(
        type='MultiHeadMLP', in_channels=768, num_classes=karmma_num_classes,
        loss_cls=dict(type='CrossEntropyLoss', loss_weight=0.7)),  # α
    align_loss=dict(type='InfoNCELoss', tau=0.1, loss_weight=0.3),  # β, τ
    align_anchor='rgb',
    data_preprocessor=karmma_data_preprocessor)

karmma_student = dict(
    type='MultimodalRecognizer',
    modalities=karmma_modalities,
    backbones=dict(
        rgb=dict(**swin_t, in_channels=3),
        flow=dict(**swin_t, in_channels=2),
        boxes=dict(type='STLT', embed_dims=768, num_spatial_layers=3, num_temporal_layers=6,
                   num_heads=12, max_boxes=karmma_max_boxes, max_frames=karmma_num_frames)),
    frozen_backbones=False,
    neck=dict(type='ThetaAverage', theta=karmma_theta),
    fusion=dict(
        type='KARMMAFusionBlock',
        in_channels=dict(rgb=768, flow=768, boxes=768),
        num_tokens=dict(rgb=karmma_theta, flow=karmma_theta, boxes=karmma_num_frames),
        embed_dims=384, num_layers=1, num_heads=8, attn_drop=0.0, drop=0.0,
        strategy='B5'),
    cls_head=dict(
        type='MultiHeadMLP', in_channels=384, num_classes=karmma_num_classes,
        loss_cls=dict(type='CrossEntropyLoss', loss_weight=0.7)),  # γ
    align_loss=None,
    data_preprocessor=karmma_data_preprocessor)

# KARMMA Tab. 1 baselines share the student's architecture and are trained with CE only (weight 1):
# "Baseline": no modality dropout and no missing-modality tokens (a missing modality's tokens are
# zeros); "Baseline w/ δ": modality dropout (in its train pipeline) + the tokens of Eq. 6 (B5).
karmma_baseline = dict(
    karmma_student,
    fusion=dict(karmma_student['fusion'], strategy='none'),
    cls_head=dict(karmma_student['cls_head'],
                  loss_cls=dict(type='CrossEntropyLoss', loss_weight=1.0)))
karmma_baseline_delta = dict(
    karmma_baseline, fusion=dict(karmma_student['fusion'], strategy='B5'))
