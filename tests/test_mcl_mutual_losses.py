"""DMCL / SMCL / CMCL / random-teacher / independent and Mutual-Learning losses."""
import math

import pytest
import torch
import torch.nn.functional as F

from mmaction.registry import MODELS

L2 = math.log(2.0)


def lse_ce(z, y):
    """Cross-entropy of one logit list, written out."""
    return math.log(sum(math.exp(v) for v in z)) - z[y]


def softmax(z):
    e = [math.exp(v) for v in z]
    return [v / sum(e) for v in e]


# two networks, two samples, two classes: net 0 wins sample 0, net 1 wins sample 1
HAND = torch.tensor([[[2., 0.], [0., 0.]],
                     [[0., 0.], [0., 3.]]])
HAND_Y = torch.tensor([0, 1])


def build(cfg):
    return MODELS.build(cfg)


def test_dmcl_hand_built_batch():
    out = build(dict(type='DMCLLoss', T=2.0, lam=0.5))(HAND.clone(), HAND_Y)
    assert out['winner'].tolist() == [0, 1]
    ce0 = math.log(1 + math.exp(-2))  # net 0 on sample 0 (winner)
    ce1 = math.log(1 + math.exp(-3))  # net 1 on sample 1 (winner)
    # each loser predicts [.5, .5] at T=2, so its soft CE to any target is log 2; × λ·T² = 2
    kd = 0.5 * 4 * L2
    torch.testing.assert_close(out['loss_cls'], torch.tensor([(ce0 + 0.5 * L2) / 2,
                                                              (0.5 * L2 + ce1) / 2]))
    torch.testing.assert_close(out['loss_kd'], torch.tensor([kd / 2, kd / 2]))


def test_dmcl_without_t2_scale_is_eq3_as_printed():
    # Eq. 3 without the released code's T²: the losers' soft-CE term is weighted by λ alone
    out = build(dict(type='DMCLLoss', T=2.0, lam=0.5, t2_scale=False))(HAND.clone(), HAND_Y)
    torch.testing.assert_close(out['loss_kd'], torch.tensor([0.5 * L2 / 2, 0.5 * L2 / 2]))
    rt = build(dict(type='RandomTeacherMCLLoss', T=2.0, lam=0.5, t2_scale=False))
    assert rt.t2_scale is False


def test_smcl_and_independent_hand_built_batch():
    ce0, ce1 = math.log(1 + math.exp(-2)), math.log(1 + math.exp(-3))
    s = build(dict(type='SMCLLoss'))(HAND.clone(), HAND_Y)
    torch.testing.assert_close(s['loss_cls'], torch.tensor([ce0 / 2, ce1 / 2]))
    assert s['loss_kd'].abs().sum() == 0 and s['winner'].tolist() == [0, 1]
    i = build(dict(type='IndependentMCLLoss', loss_weight=2.0))(HAND.clone(), HAND_Y)
    torch.testing.assert_close(i['loss_cls'], 2 * torch.tensor([(ce0 + L2) / 2,
                                                                (L2 + ce1) / 2]))
    assert i['loss_kd'].abs().sum() == 0


def reference(logits, labels, variant, T=2.0, lam=0.5, beta=0.75, winner=None):
    """Per-sample loop over Alg. 1 (DMCL) / SMCL / CMCL, plain Python arithmetic."""
    m, b, _ = logits.shape
    z = logits.tolist()
    y = labels.tolist()
    cls = [[0.0] * b for _ in range(m)]
    kd = [[0.0] * b for _ in range(m)]
    wins = []
    for i in range(b):
        ces = [lse_ce(z[k][i], y[i]) for k in range(m)]
        klu = [-math.log(len(z[k][i])) - sum(math.log(p) for p in softmax(z[k][i])) /
               len(z[k][i]) for k in range(m)]
        if variant == 'cmcl':
            crit = [ces[k] + beta * (sum(klu) - klu[k]) for k in range(m)]
        else:
            crit = ces
        w = crit.index(min(crit)) if winner is None else int(winner[i])
        wins.append(w)
        target = softmax([v / T for v in z[w][i]])
        for k in range(m):
            if k == w:
                cls[k][i] = ces[k]
                continue
            if variant == 'dmcl':
                p = softmax([v / T for v in z[k][i]])
                cls[k][i] = (1 - lam) * ces[k]
                kd[k][i] = lam * T * T * -sum(t * math.log(q) for t, q in zip(target, p))
            elif variant == 'cmcl':
                kd[k][i] = beta * klu[k]
    mean = lambda rows: torch.tensor([sum(r) / b for r in rows])  # noqa: E731
    return mean(cls), mean(kd), wins


@pytest.mark.parametrize('variant,cfg', [
    ('dmcl', dict(type='DMCLLoss', T=5.0, lam=1.0)),
    ('dmcl', dict(type='DMCLLoss', T=2.0, lam=0.5)),
    ('smcl', dict(type='SMCLLoss')),
    ('cmcl', dict(type='CMCLLoss', beta=0.75)),
])
def test_vectorised_equals_per_sample_loop(variant, cfg):
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 16, 5, generator=g) * 3
    labels = torch.randint(0, 5, (16, ), generator=g)
    out = build(cfg)(logits, labels)
    cls, kd, wins = reference(logits, labels, variant, T=cfg.get('T', 2.0),
                              lam=cfg.get('lam', 0.5))
    assert out['winner'].tolist() == wins
    torch.testing.assert_close(out['loss_cls'], cls, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(out['loss_kd'], kd, rtol=1e-5, atol=1e-6)
    if variant == 'cmcl':
        assert out['loss_kd'].sum() > 0  # the losers are really pushed to uniform


def test_random_teacher_draws_uniform_winners_and_applies_dmcl_updates():
    g = torch.Generator().manual_seed(1)
    logits = torch.randn(3, 3000, 4, generator=g)
    labels = torch.randint(0, 4, (3000, ), generator=g)
    torch.manual_seed(0)
    out = build(dict(type='RandomTeacherMCLLoss', T=2.0, lam=0.5))(logits, labels)
    rates = torch.bincount(out['winner'], minlength=3).float() / 3000
    assert (rates - 1 / 3).abs().max() < 0.04
    argmin = build(dict(type='DMCLLoss'))(logits, labels)['winner']
    assert (out['winner'] != argmin).float().mean() > 0.5  # not the lowest-loss network
    small = slice(0, 12)
    cls, kd, _ = reference(logits[:, small], labels[small], 'dmcl', winner=out['winner'][small])
    sub = build(dict(type='DMCLLoss', T=2.0, lam=0.5))
    sub.choose_winner = lambda ce: out['winner'][small]
    got = sub(logits[:, small], labels[small])
    torch.testing.assert_close(got['loss_cls'], cls, rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(got['loss_kd'], kd, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize('cfg', [dict(type='DMCLLoss', T=2.0, lam=0.5),
                                 dict(type='RandomTeacherMCLLoss', T=5.0, lam=1.0)])
def test_soft_targets_carry_no_gradient_to_the_winner(cfg):
    torch.manual_seed(0)
    logits = (torch.randn(3, 8, 5) * 2).requires_grad_()
    labels = torch.randint(0, 5, (8, ))
    out = build(cfg)(logits, labels)
    out['loss_kd'].sum().backward()
    grad = logits.grad
    win = F.one_hot(out['winner'], 3).t().bool()  # [M, B]
    assert grad[win].abs().max() == 0           # winners: no gradient from the KD term
    assert grad[~win].abs().sum(-1).min() > 0   # every loser gets one


def test_mcl_errors():
    with pytest.raises(ValueError, match='lam'):
        build(dict(type='DMCLLoss', lam=1.5))
    with pytest.raises(ValueError, match=r'\[M, B, C\]'):
        build(dict(type='DMCLLoss'))(torch.zeros(4, 3), torch.zeros(4).long())
    with pytest.raises(ValueError, match='labels'):
        build(dict(type='SMCLLoss'))(torch.zeros(2, 4, 3), torch.zeros(4, 3))


# ---- Mutual Learning ------------------------------------------------------------------------
def kl(p, q):
    return sum(a * math.log(a / b) for a, b in zip(p, q))


def test_mutual_learning_two_networks_hand_built():
    logits = torch.tensor([[[1., 0.]], [[0., 0.]]])  # B = 1
    labels = torch.tensor([0])
    p1, p2 = softmax([1., 0.]), [0.5, 0.5]
    for target in ('peers', 'mean_logits'):  # identical for M = 2
        out = build(dict(type='MutualLearningLoss', target=target))(logits, labels)
        torch.testing.assert_close(out['loss_cls'],
                                   torch.tensor([lse_ce([1., 0.], 0), L2]))
        torch.testing.assert_close(out['loss_kd'], torch.tensor([kl(p2, p1), kl(p1, p2)]))


def test_mutual_learning_three_networks_both_forms():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(3, 4, 6, generator=g)
    labels = torch.randint(0, 6, (4, ), generator=g)
    z = logits.tolist()
    peers = build(dict(type='MutualLearningLoss', target='peers'))(logits, labels)['loss_kd']
    meanl = build(dict(type='MutualLearningLoss', target='mean_logits'))(logits, labels)
    meanl = meanl['loss_kd']
    exp_peers, exp_mean = [], []
    for i in range(3):
        others = [j for j in range(3) if j != i]
        exp_peers.append(sum(sum(kl(softmax(z[j][b]), softmax(z[i][b])) for j in others) / 2
                             for b in range(4)) / 4)
        exp_mean.append(sum(kl(softmax([(z[others[0]][b][c] + z[others[1]][b][c]) / 2
                                        for c in range(6)]), softmax(z[i][b]))
                            for b in range(4)) / 4)
    torch.testing.assert_close(peers, torch.tensor(exp_peers))
    torch.testing.assert_close(meanl, torch.tensor(exp_mean))
    assert not torch.allclose(peers, meanl)  # the two published forms differ for M > 2


@pytest.mark.parametrize('target', ['peers', 'mean_logits'])
def test_mutual_learning_targets_detached(target):
    logits = torch.randn(2, 4, 5).requires_grad_()
    out = build(dict(type='MutualLearningLoss', target=target))(logits, torch.arange(4))
    out['loss_kd'][0].backward()
    assert logits.grad[1].abs().max() == 0 and logits.grad[0].abs().sum() > 0


def test_mutual_learning_multi_label_reduction():
    g = torch.Generator().manual_seed(3)
    logits = torch.randn(2, 4, 7, generator=g)
    labels = (torch.rand(4, 7, generator=g) > 0.6).float()
    out = build(dict(type='MutualLearningLoss', target='peers'))(logits, labels)
    for i in range(2):
        bce = F.binary_cross_entropy_with_logits(logits[i], labels)  # mean over B·C
        q = F.softmax(logits[1 - i], -1)
        # appendix 2: the KL sum divided by batch × classes = torch's reduction='mean'
        kl_bn = F.kl_div(F.log_softmax(logits[i], -1), q, reduction='mean')
        torch.testing.assert_close(out['loss_cls'][i], bce)
        torch.testing.assert_close(out['loss_kd'][i], kl_bn)
        single = F.kl_div(F.log_softmax(logits[i], -1), q, reduction='batchmean')
        torch.testing.assert_close(out['loss_kd'][i] * 7, single)


def test_mutual_learning_errors():
    with pytest.raises(ValueError, match='target'):
        build(dict(type='MutualLearningLoss', target='avg'))
    with pytest.raises(ValueError, match='M >= 2'):
        build(dict(type='MutualLearningLoss'))(torch.zeros(1, 2, 3), torch.zeros(2).long())
