"""The missing-modality path of KARMMA's training step (issue 15, anomaly of the KARMMA suite).

A model trained with modality dropout must compute, for a sample whose modalities are all
present, exactly what it computes without the dropout transform; a modality masked in one sample
must change that sample's logits only (training mode: BatchNorm batch statistics, the loss path).
"""
import copy

import numpy as np
import torch
from tiny_models import tiny_batch, tiny_recognizer

from mmaction.registry import MODELS, TRANSFORMS


def _bn_recognizer():
    """The tiny recognizer with the KARMMA toy's video extractor (ResNet3d: BatchNorm)."""
    cnn = dict(type='ResNet3d', depth=18, base_channels=4, num_stages=2, stage_blocks=(1, 1),
               out_indices=(1, ), conv1_kernel=(3, 5, 5), conv1_stride_t=1, pool1_stride_t=1,
               with_pool1=False, with_pool2=False, inflate=(1, 1), spatial_strides=(1, 2),
               temporal_strides=(1, 2), dilations=(1, 1), norm_eval=False, pretrained=None,
               pretrained2d=False)
    cfg = tiny_recognizer(strategy='B5', align=False)
    cfg['backbones'] = dict(cfg['backbones'], rgb=dict(cnn, in_channels=3),
                            flow=dict(cnn, in_channels=2))
    # 4x16x16 clip -> [8, 2, 4, 4]: 32 tokens of 8 channels -> Θ = 6
    cfg['fusion']['in_channels'] = dict(rgb=8, flow=8, audio=16)
    return cfg


def _loss_logits(model, batch):
    data = model.data_preprocessor(copy.deepcopy(batch), True)
    return model.loss_and_logits(**data)[1]


def test_masking_one_sample_changes_only_that_sample_in_training():
    torch.manual_seed(0)
    model = MODELS.build(_bn_recognizer()).train()
    batch = tiny_batch(3)
    full = _loss_logits(model, batch)
    for m in model.modalities:
        masked = copy.deepcopy(batch)
        info = masked['data_samples'][0].metainfo
        masked['data_samples'][0].set_metainfo(
            dict(modality_mask=dict(info['modality_mask'], **{m: False})))
        out = _loss_logits(model, masked)
        for h in full:
            # the other samples: bit-identical (no leak through BatchNorm, the mask or the pool)
            assert torch.equal(out[h][1:], full[h][1:]), (m, h)
            assert not torch.allclose(out[h][0], full[h][0]), (m, h)


def test_full_mask_is_no_mask_in_training():
    torch.manual_seed(0)
    model = MODELS.build(_bn_recognizer()).train()
    batch = tiny_batch(2)
    no_mask = copy.deepcopy(batch)
    for ds in no_mask['data_samples']:
        del ds.modality_mask          # a sample without a mask counts every modality present
    a, b = _loss_logits(model, batch), _loss_logits(model, no_mask)
    for h in a:
        assert torch.equal(a[h], b[h])


def test_modality_dropout_p0_packs_the_sample_unchanged():
    """p = 0 keeps every modality; the packed sample equals the one packed without dropout."""
    pack = TRANSFORMS.build(dict(type='PackMultimodalInputs'))
    drop = TRANSFORMS.build(dict(type='ModalityDropout', p=0.0))

    def results():
        rng = np.random.default_rng(0)
        return dict(modalities=('rgb', 'flow', 'audio'),
                    modality_present=dict(rgb=True, flow=True, audio=True),
                    modality_mask=dict(rgb=True, flow=True, audio=True),
                    rgb=rng.random((4, 8, 8, 3)).astype(np.float32),
                    flow=rng.random((4, 8, 8, 2)).astype(np.float32),
                    audio=rng.random((16, 8)).astype(np.float32), num_clips=1, clip_len=4,
                    label=dict(verb=1, noun=2))

    a, b = pack(results()), pack(drop(results()))
    assert b['data_samples'].modality_mask == dict(rgb=True, flow=True, audio=True)
    assert a['data_samples'].modality_mask == b['data_samples'].modality_mask
    for m in a['inputs']:
        assert torch.equal(a['inputs'][m], b['inputs'][m])


def test_the_mask_hides_exactly_the_modality_it_names():
    """With only modality ``keep`` present in every sample, the logits depend on ``keep``'s input
    and on no other modality's (a mask applied to the wrong modality's tokens, e.g. an order
    mismatch between the mask's columns and the fusion's token groups, fails here). Training
    mode, so the BatchNorm extractors run on batch statistics: the inputs are permuted across
    the batch, which keeps those statistics and changes every sample's input."""
    torch.manual_seed(0)
    model = MODELS.build(_bn_recognizer()).train()
    batch = tiny_batch(3)
    mods = list(model.modalities)
    for keep in mods:
        only = copy.deepcopy(batch)
        for ds in only['data_samples']:
            ds.set_metainfo(dict(modality_mask={m: m == keep for m in mods}))
        base = _loss_logits(model, only)
        for other in mods:
            swapped = copy.deepcopy(only)
            x = swapped['inputs'][other]
            swapped['inputs'][other] = (x[::-1] if isinstance(x, list) else x.flip(0))
            out = _loss_logits(model, swapped)
            for h in base:
                if other == keep:
                    assert not torch.allclose(out[h], base[h]), (keep, other, h)
                else:
                    assert torch.equal(out[h], base[h]), (keep, other, h)
