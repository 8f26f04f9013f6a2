# Copyright (c) mmdistill contributors.
import pytest
import torch

from mmaction.registry import MODELS
from mmdistill_plugin.models.backbones import STLT, AudioSpectrogramTransformer


def _stlt(**kw):
    torch.manual_seed(0)
    cfg = dict(
        embed_dims=32,
        num_spatial_layers=2,
        num_temporal_layers=2,
        num_heads=4,
        max_boxes=4,
        max_frames=8,
        dropout=0.0)
    cfg.update(kw)
    return STLT(**cfg).eval()


def _boxes(b=2, t=6, k=4, seed=0):
    g = torch.Generator().manual_seed(seed)
    xy = torch.rand(b, t, k, 2, generator=g) * 0.5
    wh = torch.rand(b, t, k, 2, generator=g) * 0.5
    cat = torch.ones(b, t, k, 1)
    cat[..., -1, :] = 2  # last slot is the hand
    valid = torch.ones(b, t, k, 1)
    return torch.cat([xy, xy + wh, cat, valid], dim=-1)


def test_stlt_shapes_and_registry():
    m = MODELS.build(
        dict(
            type='STLT',
            embed_dims=32,
            num_spatial_layers=1,
            num_temporal_layers=1,
            num_heads=4,
            max_boxes=4,
            max_frames=8,
            with_cls_token=True))
    assert m(_boxes()).shape == (2, 7, 32)
    assert _stlt()(_boxes()).shape == (2, 6, 32)


def test_stlt_frames_without_boxes_no_nan():
    m = _stlt().train()
    boxes = _boxes()
    boxes[0, 2, :, 4:] = 0  # frame 2 of sample 0: all padding
    boxes[1] = 0  # sample 1 has no boxes at all
    out = m(boxes)
    assert torch.isfinite(out).all()
    out.sum().backward()
    assert all(
        torch.isfinite(p.grad).all() for p in m.parameters()
        if p.grad is not None)


def test_stlt_padded_boxes_are_ignored():
    m = _stlt()
    boxes = _boxes()
    boxes[:, :, 1, 5] = 0  # slot 1 invalid everywhere
    other = boxes.clone()
    other[:, :, 1, :4] = torch.rand_like(other[:, :, 1, :4])
    torch.testing.assert_close(m(boxes), m(other))


def test_stlt_slot_identity_sensitivity():
    boxes = _boxes()
    perm = torch.tensor([1, 0, 2, 3])  # swap the two objects' slots
    swapped = boxes[:, :, perm]
    m = _stlt()
    assert not torch.allclose(m(boxes), m(swapped), atol=1e-5)
    m_inv = _stlt(with_slot_embedding=False)
    torch.testing.assert_close(
        m_inv(boxes), m_inv(swapped), atol=1e-5, rtol=1e-5)


def test_stlt_causal_and_errors():
    m = _stlt(causal=True)
    boxes = _boxes()
    later = boxes.clone()
    later[:, 4:, :, :4] = torch.rand_like(later[:, 4:, :, :4])
    a, b = m(boxes), m(later)
    torch.testing.assert_close(a[:, :4], b[:, :4])
    assert not torch.allclose(a[:, 4:], b[:, 4:])
    with pytest.raises(ValueError, match='max_frames'):
        m(_boxes(t=9))
    with pytest.raises(ValueError, match=r'\[B, T, K, 6\]'):
        m(torch.zeros(2, 6, 4, 5))


def test_stlt_sees_frame_order_at_init():
    """A clip and its time reversal hold the same set of layouts; only the temporal position
    embedding tells them apart (left->right vs right->left). With the embedding at 0.02 next to
    unit-scale frame embeddings the two pooled outputs differed by ~2 % of their norm and an STLT
    trained on the toy SSv2 boxes stayed at chance (docs/benchmarks.md, Multimodal -> RGB)."""
    t = 8
    x = torch.linspace(0.1, 0.7, t)
    boxes = torch.zeros(1, t, 2, 6)
    boxes[0, :, 0, 0], boxes[0, :, 0, 2] = x, x + 0.2            # object moving right
    boxes[0, :, 0, 1], boxes[0, :, 0, 3] = 0.5, 0.7
    boxes[0, :, 1, 0], boxes[0, :, 1, 2] = x, x + 0.2            # hand above it
    boxes[0, :, 1, 1], boxes[0, :, 1, 3] = 0.35, 0.5
    boxes[0, :, 0, 4], boxes[0, :, 1, 4] = 1, 2
    boxes[..., 5] = 1
    for seed in range(3):
        torch.manual_seed(seed)
        m = STLT(embed_dims=32, num_spatial_layers=1, num_temporal_layers=2, num_heads=4,
                 max_boxes=2, max_frames=t, dropout=0.0).eval()
        m.init_weights()   # the config's init_cfg (trunc-normal Linear layers)
        with torch.no_grad():
            fwd, rev = m(boxes)[0], m(boxes.flip(1))[0].flip(0)
        # an order-blind model maps the layout of frame t to the same token in both clips:
        # rev == fwd; measure the difference against the tokens' spread within the clip
        ratio = float((fwd - rev).norm() / (fwd - fwd.mean(0)).norm())
        assert ratio > 0.5, (seed, ratio)


def test_ast_output_shape():
    m = MODELS.build(
        dict(
            type='AudioSpectrogramTransformer',
            embed_dims=48,
            num_layers=2,
            num_heads=3,
            input_size=(100, 64),
            drop_path_rate=0.1))
    # ((100-16)//10+1) * ((64-16)//10+1) = 9 * 5
    assert m.num_patches == 45
    x = torch.randn(2, 1, 100, 64)
    out = m(x)
    assert out.shape == (2, 45, 48)
    m.train()(x).sum().backward()
    assert m.pos_embed.grad is not None
    all_tok = AudioSpectrogramTransformer(
        embed_dims=48, num_layers=1, num_heads=3, input_size=(100, 64),
        out_tokens='all')
    assert all_tok(x).shape == (2, 47, 48)
    with pytest.raises(ValueError, match=r'\(2, 1, 90, 64\)'):
        m(torch.randn(2, 1, 90, 64))


def test_ast_default_is_ast_tiny():
    m = AudioSpectrogramTransformer(input_size=(1024, 128))
    assert m.num_patches == 101 * 12
    assert len(m.layers) == 12 and m.embed_dims == 192
