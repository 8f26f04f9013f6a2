# Copyright (c) mmdistill contributors.
import pytest
import torch

from mmaction.registry import MODELS
from mmdistill_plugin.models.necks import ThetaAverage


def _loop_reference(x, theta):
    k = x.shape[1]
    if k <= theta:
        return x
    g = k // theta
    outs = []
    for j in range(theta):
        start = j * g
        stop = (j + 1) * g if j < theta - 1 else k
        outs.append(x[:, start:stop].mean(dim=1))
    return torch.stack(outs, dim=1)


def test_hand_computed_k7_theta3():
    x = torch.arange(7, dtype=torch.float32).view(1, 7, 1).repeat(2, 1, 2)
    out = ThetaAverage(3)(x)
    assert out.shape == (2, 3, 2)
    expected = torch.tensor([0.5, 2.5, 5.0]).view(1, 3, 1).expand(2, 3, 2)
    torch.testing.assert_close(out, expected)


@pytest.mark.parametrize('k', [1, 5, 6])
def test_k_le_theta_is_identity(k):
    x = torch.randn(2, k, 4)
    assert ThetaAverage(6)(x) is x


def test_none_theta_is_identity():
    x = torch.randn(2, 9, 4)
    assert ThetaAverage(None)(x) is x


@pytest.mark.parametrize('k,theta', [(785, 300), (785, 100), (10, 1),
                                     (601, 300), (600, 300), (13, 4)])
def test_matches_loop_reference(k, theta):
    x = torch.randn(2, k, 8, dtype=torch.float64)
    out = ThetaAverage(theta)(x)
    assert out.shape == (2, min(k, theta), 8)
    torch.testing.assert_close(out, _loop_reference(x, theta))


def test_k785_theta300_last_group_size():
    # g = 2; last group holds 2 + 185 tokens
    x = torch.zeros(1, 785, 1)
    x[:, 598:] = 1.0  # only the last group's tokens
    out = ThetaAverage(300)(x)
    assert out.shape == (1, 300, 1)
    assert out[0, :299].abs().max() == 0
    assert out[0, 299, 0] == 1.0


def test_gradient_flows():
    x = torch.randn(2, 11, 3, requires_grad=True)
    ThetaAverage(4)(x).sum().backward()
    # each token in a group of size g gets 1/g
    g = torch.tensor([1 / 2] * 6 + [1 / 5] * 5).view(1, 11, 1)
    torch.testing.assert_close(x.grad, g.expand(2, 11, 3))


def test_errors_and_registry():
    with pytest.raises(ValueError, match=r'\(2, 3\)'):
        ThetaAverage(3)(torch.randn(2, 3))
    with pytest.raises(ValueError):
        ThetaAverage(0)
    m = MODELS.build(dict(type='ThetaAverage', theta=5))
    assert isinstance(m, ThetaAverage) and not list(m.parameters())
    assert m.num_output_tokens(7) == 5 and m.num_output_tokens(3) == 3
