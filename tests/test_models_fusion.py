# Copyright (c) mmdistill contributors.
import pytest
import torch

from mmaction.registry import MODELS
from mmdistill_plugin.models.fusion import KARMMAFusionBlock

IN = dict(rgb=12, flow=10, audio=6)
K = dict(rgb=5, flow=4, audio=3)


def _block(strategy='B5', **kw):
    torch.manual_seed(0)
    cfg = dict(
        in_channels=IN,
        num_tokens=K,
        embed_dims=16,
        num_layers=2,
        num_heads=4,
        attn_drop=0.0,
        strategy=strategy)
    cfg.update(kw)
    return KARMMAFusionBlock(**cfg).eval()


def _tokens(b=3, seed=1):
    g = torch.Generator().manual_seed(seed)
    return {m: torch.randn(b, K[m], IN[m], generator=g) for m in IN}


MASK = torch.tensor([[True, True, True], [True, False, True],
                     [False, True, False]])


@pytest.mark.parametrize('strategy', ['B1', 'B2', 'B3', 'B4', 'B5', 'none', 'ignore'])
def test_output_shape_and_finite(strategy):
    f = _block(strategy)
    out = f(_tokens(), MASK)
    assert out.shape == (3, 4, 16)
    assert torch.isfinite(out).all()
    out2, z = f(_tokens(), MASK, return_modality_features=True)
    torch.testing.assert_close(z, out2[:, :3])


def test_registry_and_default_config():
    f = MODELS.build(
        dict(type='KARMMAFusionBlock', in_channels=IN, num_tokens=K))
    assert f.strategy == 'B5' and f.embed_dims == 768
    assert len(f.layers) == 2
    assert f.layers[0].attn.dropout == 0.3
    assert f.layers[0].drop.p == 0.0


@pytest.mark.parametrize('strategy', ['B1', 'B2', 'B3', 'B4', 'B5', 'none', 'ignore'])
def test_missing_modality_input_is_ignored(strategy):
    f = _block(strategy)
    x = _tokens()
    y = {m: v.clone() for m, v in x.items()}
    y['flow'][1] = torch.randn_like(y['flow'][1]) * 100  # missing in row 1
    y['flow'][1, 0, 0] = float('nan')
    out_x, out_y = f(x, MASK), f(y, MASK)
    torch.testing.assert_close(out_x, out_y)
    # while an available modality does change the output
    y['rgb'][1] += 1.0
    assert not torch.allclose(f(y, MASK)[1], out_x[1])


def test_b5_missing_tokens_are_learned_tokens():
    f = _block('B5')
    seq, kpm = f.embed_tokens(_tokens(), MASK)
    assert kpm is None
    # flow (slots 5..8) missing in sample 1 -> t̆ + ṫ_i exactly (Eq. 6)
    expected = f.modality_tokens[1] + f.token_tokens['flow']
    torch.testing.assert_close(seq[1, 5:9], expected)
    # available: t + t̆ + ṫ_i
    t = f.embed['flow'](_tokens()['flow'][0])
    torch.testing.assert_close(seq[0, 5:9], t + expected)


def test_b5_gradients_reach_learned_tokens():
    f = _block('B5').train()
    out = f(_tokens(), MASK)
    out.pow(2).sum().backward()
    assert f.modality_tokens.grad.abs().sum() > 0
    for m in IN:
        assert f.token_tokens[m].grad.abs().sum() > 0
    assert f.cls_token.grad.abs().sum() > 0


def test_none_strategy_zeros():
    f = _block('none')
    seq, _ = f.embed_tokens(_tokens(), MASK)
    assert seq[1, 5:9].abs().max() == 0  # flow missing in sample 1
    assert seq[2, 0:5].abs().max() == 0  # rgb missing in sample 2
    assert seq[0, 5:9].abs().max() > 0
    assert f.modality_tokens is None and f.token_tokens is None


def test_b1_padding_batch_equals_per_sample_and_true_single_token():
    f = _block('B1')
    x = _tokens()
    out = f(x, MASK)
    assert torch.isfinite(out).all()
    for i in range(3):
        xi = {m: v[i:i + 1] for m, v in x.items()}
        torch.testing.assert_close(
            f(xi, MASK[i:i + 1]), out[i:i + 1], atol=1e-5, rtol=1e-5)
    # sample 1 (flow missing) == actually feeding a single t̆ token for flow
    seq, kpm = f.embed_tokens({m: v[1:2] for m, v in x.items()}, MASK[1:2])
    keep = ~kpm[0]
    assert keep.sum() == sum(K.values()) + 1 - (K['flow'] - 1)
    short = f.encode(seq[:, keep])
    # short layout: rgb 0..4, flow 5, audio 6..8, cls 9
    torch.testing.assert_close(
        short[0, 5], out[1, 1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(
        short[0, 6:9].mean(0), out[1, 2], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(short[0, 9], out[1, 3], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(seq[0, 5], f.modality_tokens[1])


def test_all_missing_but_cls_is_finite_b1():
    f = _block('B1')
    mask = torch.zeros(2, 3, dtype=torch.bool)
    assert torch.isfinite(f(_tokens(2), mask)).all()


def test_mask_default_and_dict():
    f = _block('B5')
    x = _tokens()
    full = f(x)
    torch.testing.assert_close(full, f(x, torch.ones(3, 3, dtype=torch.bool)))
    d = {m: MASK[:, i] for i, m in enumerate(IN)}
    torch.testing.assert_close(f(x, d), f(x, MASK))


def test_errors_name_modality_and_shapes():
    f = _block('B5')
    x = _tokens()
    x['audio'] = torch.randn(3, 7, 6)
    with pytest.raises(ValueError, match=r"'audio'.*\(3, 7, 6\)"):
        f(x, MASK)
    x = _tokens()
    del x['flow']
    with pytest.raises(ValueError, match="'flow'"):
        f(x, MASK)
    with pytest.raises(ValueError, match='mask'):
        f(_tokens(), MASK[:, :2])
    with pytest.raises(ValueError, match='strategy'):
        _block('B6')


def test_ignore_equals_fusing_only_the_present_modalities():
    """'ignore' (KARMMA supp. B): a missing modality is as if it were not there: the outputs of
    the present modalities and CLS equal those of a block built without it (same weights), its
    own row is zeros, and its inputs get no gradient."""
    f = _block('ignore')
    x = {m: v.clone().requires_grad_(True) for m, v in _tokens(b=2).items()}
    mask = torch.tensor([[True, False, True], [True, False, True]])
    out = f(x, mask)
    g = KARMMAFusionBlock(in_channels=dict(rgb=12, audio=6), num_tokens=dict(rgb=5, audio=3),
                          embed_dims=16, num_layers=2, num_heads=4, attn_drop=0.0,
                          strategy='ignore').eval()
    g.load_state_dict({k: v for k, v in f.state_dict().items() if 'flow' not in k})
    ref = g({m: x[m] for m in ('rgb', 'audio')})
    torch.testing.assert_close(out[:, [0, 2, 3]], ref)
    assert torch.equal(out[:, 1], torch.zeros_like(out[:, 1]))
    out.sum().backward()
    assert torch.equal(x['flow'].grad, torch.zeros_like(x['flow']))
    assert x['rgb'].grad.abs().sum() > 0
    assert torch.equal(f.output_valid(mask, 2), torch.tensor([[True, False, True, True]] * 2))
    assert _block('B5').output_valid(mask, 2) is None
    # 'none' zero-fills instead: the zero tokens are attended to, so the CLS output differs
    none = _block('none')
    none.load_state_dict(f.state_dict())
    assert not torch.allclose(none(x, mask)[:, 3], out[:, 3])


def test_ignore_all_missing_gives_cls_only():
    f = _block('ignore')
    out = f(_tokens(b=1), torch.zeros(1, 3, dtype=torch.bool))
    assert torch.isfinite(out).all() and torch.equal(out[0, :3], torch.zeros(3, 16))
