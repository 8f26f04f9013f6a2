# KARMMA models for Something-Something V2 (V = rgb, F = flow, D = object-detection boxes),
# paper §4: teacher Swin-B (V, F, frozen, Kinetics-400) + STLT-12 (D, frozen, pre-trained on
# Action Genome); student Swin-T (V, F, Kinetics-400) + STLT-9 (D, no pre-training).
# 16-frame 224×224 clips give Swin 8×7×7 = 392 tokens → Θ-Average → 300.
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

# Feature-extractor checkpoints (KARMMA §4: Swin-B / Swin-T pre-trained on Kinetics-400): the
# MMAction2 model-zoo recognizers of configs/recognition/swin/metafile.yml in open-mmlab/mmaction2
# (swin-{base,tiny}-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb). mmengine downloads
# each once at init_weights() into the torch hub cache (~/.cache/torch/hub/checkpoints); point a
# variable at a local copy for machines without internet. Their keys are backbone.* and
# cls_head.*: prefix='backbone.' selects the Swin. Non-RGB extractors (flow: 2 channels) start
# from the same RGB weights with the patch embedding inflated (channel mean of the RGB
# kernel, InflatedPretrained).
swin_b_k400_ckpt = ('https://download.openmmlab.com/mmaction/v1.0/recognition/swin/'
                    'swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb/'
                    'swin-base-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb_'
                    '20220930-182ec6cc.pth')
swin_t_k400_ckpt = ('https://download.openmmlab.com/mmaction/v1.0/recognition/swin/'
                    'swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb/'
                    'swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb_'
                    '20220930-241016b2.pth')


def _k400(ckpt, in_channels):
    """init_cfg loading a Kinetics-400 Swin recognizer's backbone (inflated when not RGB)."""
    if in_channels == 3:
        return dict(type='Pretrained', checkpoint=ckpt, prefix='backbone.')
    return dict(type='InflatedPretrained', checkpoint=ckpt, prefix='backbone.',
                inflate_keys=['patch_embed.proj.weight'])


# STLT-12 pre-trained on Action Genome (KARMMA §4): NO public checkpoint exists (neither the STLT
# authors nor MMAction2 publish one), so the teacher cannot be built as in the paper out of the
# box: with stlt12_ckpt = None, init_weights() of the teacher raises (a frozen random STLT would
# feed the fusion block noise). Train an STLT-12 on boxes yourself (e.g. BoxRecognizer as in
# configs/mm2rgb/baseline_boxes_sthv2.py with max_frames=16, on Action Genome or SSv2 boxes) and
# set this to its checkpoint (keys backbone.*), or allow_random_frozen=True on purpose.
stlt12_ckpt = None  # deviation: no Action Genome STLT-12 exists; set your own (see above)


swin_b = dict(type='SwinTransformer3D', arch='base', pretrained=None, pretrained2d=False,
              patch_size=(2, 4, 4), window_size=(8, 7, 7), drop_path_rate=0.0)
swin_t = dict(type='SwinTransformer3D', arch='tiny', pretrained=None, pretrained2d=False,
              patch_size=(2, 4, 4), window_size=(8, 7, 7), drop_path_rate=0.1)

karmma_teacher = dict(
    type='MultimodalRecognizer',
    modalities=karmma_modalities,
    backbones=dict(
        rgb=dict(**swin_b, in_channels=3, init_cfg=_k400(swin_b_k400_ckpt, 3)),
        flow=dict(**swin_b, in_channels=2, init_cfg=_k400(swin_b_k400_ckpt, 2)),
        boxes=dict(type='STLT', embed_dims=768, num_spatial_layers=4, num_temporal_layers=8,
                   num_heads=12, max_boxes=karmma_max_boxes, max_frames=karmma_num_frames,
                   init_cfg=dict(type='Pretrained', checkpoint=stlt12_ckpt, prefix='backbone.'))),
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
        rgb=dict(**swin_t, in_channels=3, init_cfg=_k400(swin_t_k400_ckpt, 3)),
        flow=dict(**swin_t, in_channels=2, init_cfg=_k400(swin_t_k400_ckpt, 2)),
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
