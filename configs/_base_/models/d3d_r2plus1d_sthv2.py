# D3D (d3d.txt §4) models on Something-Something V2: a flow ("temporal stream") teacher and an
# RGB ("spatial stream") student of the SAME architecture, as in the paper (S3D-G for both).
# We use R(2+1)D-34 (MMAction2's ResNet2Plus1d), a 3D CNN like S3D-G: its stages give
# [B, C, T, H, W] feature maps, which the D3D flow-decoder probe needs (FlowProbeRecognizer;
# a TimeSformer's intermediate outputs are token sequences, not feature maps). layer2 (128
# channels, 28×28 for 224² input) is the probed layer, close to S3D-G's "3A" and its 28×28.
# Pre-training: D3D §4.1 / §5.2 start from S3D-G pre-trained on Kinetics-400; no S3D-G checkpoint
# is published for MMAction2, whose only Kinetics-400 R(2+1)D is the R(2+1)D-34 below (hence
# depth 34): open-mmlab/mmaction2 configs/recognition/r2plus1d/metafile.yml,
# r2plus1d_r34_8x8x1_180e_8xb8_kinetics400_rgb (8 frames, 224², the clip shape used here).
# Both streams start from it: the backbone loads the recognizer checkpoint's backbone.* keys
# through the plugin's 'submodule:backbone.:' checkpoint scheme (ResNet2Plus1d loads its
# `pretrained` path itself and ignores init_cfg). The flow stream's first (2+1)D convolution has
# a different width for 2 input channels (Conv2plus1d's mid channels depend on them), so it
# cannot take the RGB kernel and stays randomly initialised (mmengine logs the skipped keys);
# every later layer starts from Kinetics-400. mmengine downloads the file once at init_weights()
# (torch hub cache, ~/.cache/torch/hub/checkpoints); point the variable at a local copy offline.
r2plus1d_34_k400_ckpt = (
    'https://download.openmmlab.com/mmaction/v2.0/recognition/r2plus1d/'
    'r2plus1d_r34_8x8x1_180e_8xb8_kinetics400_rgb/'
    'r2plus1d_r34_8x8x1_180e_8xb8_kinetics400_rgb_20220812-47cfe041.pth')
d3d_num_classes = 174
d3d_rgb_preprocessor = dict(
    type='SelectModality', modality='rgb',
    preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                      std=[58.395, 57.12, 57.375], to_rgb=True, format_shape='NCTHW'))
d3d_flow_preprocessor = dict(
    type='SelectModality', modality='flow',
    preprocessor=dict(type='ActionDataPreprocessor', mean=[127.5, 127.5], std=[127.5, 127.5],
                      format_shape='NCTHW'))
# deviation: R(2+1)D-34 (Kinetics-400, MMAction2) for both streams instead of S3D-G (see above)
r2plus1d_34 = dict(
    type='ResNet2Plus1d', depth=34, pretrained=f'submodule:backbone.:{r2plus1d_34_k400_ckpt}',
    pretrained2d=False, in_channels=3, base_channels=64, norm_eval=False,
    conv_cfg=dict(type='Conv2plus1d'),
    norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3), act_cfg=dict(type='ReLU'),
    conv1_kernel=(3, 7, 7), conv1_stride_t=1, pool1_stride_t=1, with_pool1=True,
    inflate=(1, 1, 1, 1), spatial_strides=(1, 2, 2, 2), temporal_strides=(1, 2, 2, 2),
    zero_init_residual=False)
# average_clips='prob' takes effect: D3D's networks are plain Recognizer3D, tested by MMAction2's
# predict (one test clip: pred_score = softmax of the logits; several clips: mean probability);
# top-1 is the same as with 'score'. The distillation loss reads the head's logits, not this.
d3d_head = dict(type='I3DHead', num_classes=d3d_num_classes, in_channels=512,
                spatial_type='avg', dropout_ratio=0.5, average_clips='prob')
d3d_rgb_model = dict(type='Recognizer3D', backbone=r2plus1d_34, cls_head=d3d_head,
                     data_preprocessor=d3d_rgb_preprocessor)
d3d_flow_model = dict(type='Recognizer3D', backbone=dict(r2plus1d_34, in_channels=2),
                      cls_head=d3d_head, data_preprocessor=d3d_flow_preprocessor)
d3d_probe_layer = 'backbone.layer2'      # the student's layer the flow decoder reads
d3d_probe_channels = 128                 # its channels (R(2+1)D-34 layer2)
