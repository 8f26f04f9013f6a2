"""Tiny model configs and batches for CPU tests (random initialisation)."""
import torch
from mmengine.structures import LabelData

from mmaction.structures import ActionDataSample

MODALITIES = ('rgb', 'flow', 'audio')


def tiny_swin(in_channels):
    return dict(type='SwinTransformer3D', arch=dict(embed_dims=8, depths=[1, 1], num_heads=[1, 1]),
                pretrained=None, pretrained2d=False, patch_size=(2, 4, 4), window_size=(2, 2, 2),
                in_channels=in_channels, drop_path_rate=0.0, out_indices=(1, ))


def tiny_recognizer(strategy='B5', frozen=False, align=True, num_classes=dict(verb=3, noun=4),
                    loss_weight=1.0):
    return dict(
        type='MultimodalRecognizer',
        modalities=MODALITIES,
        backbones=dict(rgb=tiny_swin(3), flow=tiny_swin(2),
                       audio=dict(type='AudioSpectrogramTransformer', embed_dims=16, num_layers=1,
                                  num_heads=2, patch_size=8, stride=8, input_size=(32, 16))),
        neck=dict(type='ThetaAverage', theta=6),
        fusion=dict(type='KARMMAFusionBlock', in_channels=dict(rgb=16, flow=16, audio=16),
                    num_tokens=dict(rgb=6, flow=6, audio=6), embed_dims=16, num_layers=1,
                    num_heads=2, attn_drop=0.0, strategy=strategy),
        cls_head=dict(type='MultiHeadMLP', in_channels=16, num_classes=num_classes,
                      loss_cls=dict(type='CrossEntropyLoss', loss_weight=loss_weight)),
        align_loss=dict(type='InfoNCELoss', tau=0.1, loss_weight=0.3) if align else None,
        frozen_backbones=frozen,
        data_preprocessor=dict(
            type='MultiModalDataPreprocessor',
            preprocessors=dict(
                rgb=dict(type='ActionDataPreprocessor', mean=[128.] * 3, std=[64.] * 3,
                         format_shape='NCTHW'),
                flow=dict(type='ActionDataPreprocessor', mean=[127.5] * 2, std=[127.5] * 2,
                          format_shape='NCTHW'),
                audio=dict(type='ActionDataPreprocessor', format_shape='NCHW'))))


def tiny_batch(batch_size=2, seed=0, mask=None, present=None):
    """A collated batch as the dataloader gives it (lists of per-sample tensors)."""
    g = torch.Generator().manual_seed(seed)
    inputs = dict(
        rgb=[torch.randint(0, 256, (1, 3, 4, 16, 16), generator=g).float()
             for _ in range(batch_size)],
        flow=[torch.randint(0, 256, (1, 2, 4, 16, 16), generator=g).float()
              for _ in range(batch_size)],
        audio=[torch.randn(1, 1, 32, 16, generator=g) for _ in range(batch_size)])
    samples = []
    for i in range(batch_size):
        ds = ActionDataSample()
        ds.gt_labels = LabelData(verb=torch.tensor([i % 3]), noun=torch.tensor([i % 4]))
        ds.set_metainfo(dict(
            modalities=MODALITIES,
            modality_present=dict(present or {m: True for m in MODALITIES}),
            modality_mask=dict(mask or {m: True for m in MODALITIES})))
        samples.append(ds)
    return dict(inputs=inputs, data_samples=samples)
