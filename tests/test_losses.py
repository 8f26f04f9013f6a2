import math

import pytest
import torch

from mmdistill_plugin.models.losses import InfoNCELoss, KLDivergence, LogitMSE


def kl(p, q):
    return sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))


def test_kl_tau1_hand_computed():
    # teacher p_T = (3/4, 1/4), student uniform
    s = torch.zeros(1, 2)
    t = torch.tensor([[math.log(3.0), 0.0]])
    loss = KLDivergence(tau=1.0, loss_weight=1.0)(s, t)
    assert loss.item() == pytest.approx(0.75 * math.log(1.5) + 0.25 * math.log(0.5), rel=1e-6)


def test_kl_tau_squared_scaling_and_weight():
    s = torch.zeros(1, 2)
    t = torch.tensor([[math.log(3.0), 0.0]])
    r = math.sqrt(3.0)  # softmax(t / 2) = (√3, 1) / (√3 + 1)
    p_t = (r / (r + 1), 1 / (r + 1))
    expected = 0.3 * 4.0 * kl(p_t, (0.5, 0.5))
    loss = KLDivergence(tau=2.0, loss_weight=0.3)(s, t)
    assert loss.item() == pytest.approx(expected, rel=1e-6)


def test_kl_batchmean_and_heads_averaged():
    s = torch.zeros(2, 2)
    t = torch.tensor([[math.log(3.0), 0.0], [0.0, 0.0]])  # second sample: KL = 0
    one = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    loss = KLDivergence()(s, t)
    assert loss.item() == pytest.approx(one / 2, rel=1e-6)
    loss = KLDivergence()(dict(verb=s, noun=s), dict(verb=t, noun=torch.zeros(2, 2)))
    assert loss.item() == pytest.approx(one / 4, rel=1e-6)


def test_kl_gradient_reaches_student_only():
    s = torch.randn(3, 5, requires_grad=True)
    t = torch.randn(3, 5, requires_grad=True)
    KLDivergence(tau=10)(s, t).backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None


def test_kl_rejects_mismatch():
    with pytest.raises(ValueError, match='verb'):
        KLDivergence()(dict(verb=torch.zeros(1, 3)), dict(verb=torch.zeros(1, 4)))
    with pytest.raises(ValueError):
        KLDivergence(tau=0)


def test_logit_mse_hand_computed():
    s = torch.tensor([[1.0, 2.0]], requires_grad=True)
    t = torch.zeros(1, 2, requires_grad=True)
    loss = LogitMSE(loss_weight=2.0)(s, t)
    assert loss.item() == pytest.approx(2.0 * (1 + 4) / 2)
    loss.backward()
    assert t.grad is None
    assert torch.allclose(s.grad, 2.0 * 2 * torch.tensor([[1.0, 2.0]]) / 2)


def test_logit_mse_reductions_hand_computed():
    """D3D Eq. 2 read literally (squared norm per clip, mean over clips) vs the mean over classes
    too: 1/C of it."""
    s = torch.tensor([[1.0, 0.0, 0.0, 0.0, 0.0], [0.0, 2.0, 0.0, 0.0, 3.0]], requires_grad=True)
    t = torch.zeros(2, 5)
    paper = LogitMSE(reduction='batchmean')(s, t)
    assert paper.item() == pytest.approx((1 + (4 + 9)) / 2)          # 7.0
    assert LogitMSE()(s, t).item() == pytest.approx((1 + 4 + 9) / (2 * 5))  # 1.4 = 7.0 / C
    paper.backward()
    assert torch.allclose(s.grad, 2 * s.detach() / 2)                # d/ds of Σ_c (s−t)² / N
    heads = LogitMSE(reduction='batchmean')(dict(verb=s, noun=2 * s), dict(verb=t, noun=t))
    assert heads.item() == pytest.approx((7.0 + 4 * 7.0) / 2)        # heads averaged
    with pytest.raises(ValueError, match='reduction'):
        LogitMSE(reduction='sum')


def test_info_nce_hand_computed():
    anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    others = torch.tensor([[[2.0, 0.0]], [[0.0, 3.0]]])  # cosine ignores the norm
    # sim = identity / τ; each row: -log(e^{1/τ} / (e^{1/τ} + 1))
    loss = InfoNCELoss(tau=0.5, loss_weight=1.0)(anchor, others)
    assert loss.item() == pytest.approx(math.log(1 + math.exp(-2.0)), rel=1e-6)


def test_info_nce_averages_modalities():
    anchor = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    aligned = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    swapped = torch.tensor([[0.0, 1.0], [1.0, 0.0]])
    others = torch.stack([aligned, swapped], dim=1)  # [B, 2, D]
    loss = InfoNCELoss(tau=1.0)(anchor, others)
    good = math.log(1 + math.exp(-1.0))
    bad = math.log(1 + math.exp(1.0))
    assert loss.item() == pytest.approx((good + bad) / 2, rel=1e-6)
    with pytest.raises(ValueError, match=r'\[B, M-1, D\]'):
        InfoNCELoss()(anchor, aligned)
