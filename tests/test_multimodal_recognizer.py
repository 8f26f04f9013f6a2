import copy

import pytest
import torch
from tiny_models import tiny_batch, tiny_recognizer

from mmaction.registry import MODELS


def run(model, batch, mode):
    data = model.data_preprocessor(copy.deepcopy(batch), mode == 'loss')
    return model(**data, mode=mode)


def test_teacher_loss_terms_and_frozen_backbones():
    torch.manual_seed(0)
    model = MODELS.build(tiny_recognizer(frozen=True))
    model.train()
    assert all(not b.training for b in model.backbones.values())
    assert model.fusion.training
    losses = run(model, tiny_batch(4), 'loss')
    assert {'loss_cls', 'loss_align'} <= set(losses)
    sum(v for k, v in losses.items() if 'loss' in k).backward()
    assert all(p.grad is None for p in model.backbones.parameters())
    assert all(not p.requires_grad for p in model.backbones.parameters())
    assert model.fusion.cls_token.grad is not None if hasattr(model.fusion, 'cls_token') else True
    assert any(p.grad is not None for p in model.cls_head.parameters())


def test_predict_sets_scores_per_head_and_averages_clips():
    torch.manual_seed(0)
    model = MODELS.build(tiny_recognizer()).eval()
    batch = tiny_batch(2)
    out = run(model, batch, 'predict')
    assert set(out[0].pred_scores.keys()) == {'verb', 'noun'}
    assert torch.allclose(out[0].pred_scores.verb.sum(), torch.tensor(1.0))
    # Two identical clips give the same scores as one clip.
    two = copy.deepcopy(batch)
    for m in two['inputs']:
        two['inputs'][m] = [torch.cat([x, x]) for x in two['inputs'][m]]
    out2 = run(model, two, 'predict')
    assert torch.allclose(out[1].pred_scores.noun, out2[1].pred_scores.noun, atol=1e-5)


def test_masked_modality_input_is_ignored_and_test_cfg_drops():
    torch.manual_seed(0)
    model = MODELS.build(tiny_recognizer(strategy='B5')).eval()
    masked = tiny_batch(2, mask=dict(rgb=True, flow=False, audio=True))
    other = copy.deepcopy(masked)
    other['inputs']['flow'] = [torch.zeros_like(x) for x in other['inputs']['flow']]
    a, b = run(model, masked, 'tensor'), run(model, other, 'tensor')
    assert torch.allclose(a['verb'], b['verb'], atol=1e-6)
    full = run(model, tiny_batch(2), 'tensor')
    assert not torch.allclose(full['verb'], a['verb'], atol=1e-6)
    # test_cfg.drop_modalities hides flow from the command line the same way.
    cfg = tiny_recognizer(strategy='B5')
    cfg['test_cfg'] = dict(drop_modalities=['flow'])
    dropped = MODELS.build(cfg)
    dropped.load_state_dict(model.state_dict())
    dropped.eval()
    assert torch.allclose(run(dropped, tiny_batch(2), 'tensor')['verb'], a['verb'], atol=1e-6)


def test_bad_config_and_inputs_name_the_modality():
    cfg = tiny_recognizer()
    cfg['test_cfg'] = dict(drop_modalities=['depth'])
    with pytest.raises(ValueError, match='depth'):
        MODELS.build(cfg)
    model = MODELS.build(tiny_recognizer()).eval()
    batch = tiny_batch(2)
    del batch['inputs']['audio']
    cfg = tiny_recognizer()
    cfg['data_preprocessor']['preprocessors'].pop('audio')
    model = MODELS.build(cfg).eval()
    with pytest.raises(KeyError, match='audio'):
        run(model, batch, 'tensor')


def test_ignore_strategy_missing_modality_has_no_effect_and_head_averages_present_tokens():
    from tiny_models import tiny_batch, tiny_recognizer
    model = MODELS.build(tiny_recognizer(strategy='ignore')).eval()
    mask = dict(rgb=True, flow=False, audio=True)
    batch = model.data_preprocessor(tiny_batch(mask=mask), False)
    logits = model.forward_logits(batch['inputs'], batch['data_samples'], test_mode=True)
    other = {m: v.clone() for m, v in batch['inputs'].items()}
    other['flow'] = torch.randn_like(other['flow']) * 50
    torch.testing.assert_close(
        model.forward_logits(other, batch['data_samples'], test_mode=True), logits)
    fused, valid, _ = model.fuse(batch['inputs'], batch['data_samples'], test_mode=True)
    assert valid.tolist() == [[True, False, True, True]] * 2
    per_token = model.cls_head.forward_tokens(fused)
    for k, v in per_token.items():
        torch.testing.assert_close(logits[k], v[:, [0, 2, 3]].mean(1))


def test_a_modality_missing_for_the_whole_batch_is_not_computed_at_test_time():
    """Same logits as running its extractor and letting the fusion ignore it, without the cost."""
    import copy

    from tiny_models import tiny_batch, tiny_recognizer
    torch.manual_seed(0)
    model = MODELS.build(dict(tiny_recognizer(), test_cfg=dict(drop_modalities=['audio']))).eval()
    calls = []
    model.backbones['audio'].register_forward_hook(lambda *a: calls.append('audio'))
    data = model.data_preprocessor(copy.deepcopy(tiny_batch(2)), False)
    skipped = model.forward_logits(data['inputs'], data['data_samples'], test_mode=True)
    assert calls == []
    # Reference: every extractor runs, the fusion masks audio.
    tokens = model.extract_tokens(data['inputs'])
    assert calls == ['audio']
    mask = torch.tensor([[True, True, False]] * 2)
    ref = model.cls_head(model.fusion(tokens, mask))
    for h in ('verb', 'noun'):
        torch.testing.assert_close(skipped[h], ref[h], rtol=1e-5, atol=1e-6)
    # Training keeps every extractor in the graph (DDP needs their gradients).
    model.train()
    calls.clear()
    batch = copy.deepcopy(tiny_batch(2, mask=dict(rgb=True, flow=True, audio=False)))
    model(**model.data_preprocessor(batch, True), mode='loss')
    assert calls == ['audio']


def test_modality_order_survives_a_config_round_trip(tmp_path):
    """mmengine's Config.dump sorts dict keys, so a dumped config (every work dir's ``*.py``)
    lists the fusion's ``in_channels`` as audio, flow, rgb. The recognizer passes its own
    ``modalities`` order to the fusion block, so the mask columns, the learned modality tokens
    and the output rows keep their meaning: the same weights give the same logits with a
    modality dropped. (Before the fix the dumped model read "flow and audio missing" as
    "rgb and flow missing" and gave every clip the same scores.)"""
    from mmengine.config import Config
    cfg = tiny_recognizer()
    cfg['fusion']['in_channels'] = dict(reversed(list(cfg['fusion']['in_channels'].items())))
    cfg['fusion']['num_tokens'] = dict(reversed(list(cfg['fusion']['num_tokens'].items())))
    assert list(cfg['fusion']['in_channels']) != list(cfg['modalities'])
    Config(dict(model=cfg)).dump(str(tmp_path / 'cfg.py'))
    dumped = Config.fromfile(str(tmp_path / 'cfg.py')).model.to_dict()
    torch.manual_seed(0)
    ref = MODELS.build(tiny_recognizer()).eval()
    other = MODELS.build(dumped).eval()
    assert other.fusion.modalities == ref.fusion.modalities == tuple(ref.modalities)
    other.load_state_dict(ref.state_dict())
    batch = tiny_batch(3)
    for m in ref.modalities:
        batch['inputs'][m] = [torch.randn_like(x) * 50 for x in batch['inputs'][m]]
    for drop in ([], [ref.modalities[1]], list(ref.modalities[1:])):
        ref.test_cfg['drop_modalities'] = other.test_cfg['drop_modalities'] = drop
        with torch.no_grad():
            a = run(ref, batch, 'tensor')
            b = run(other, batch, 'tensor')
        for k in a:
            assert torch.allclose(a[k], b[k], atol=1e-6), (drop, k)
        if len(drop) == len(ref.modalities) - 1:   # one modality left: scores still vary
            assert all(v.std(0).max() > 1e-4 for v in a.values()), drop


def test_fusion_order_other_than_the_recognizers_is_refused():
    cfg = tiny_recognizer()
    cfg['fusion']['modalities'] = tuple(reversed(cfg['modalities']))
    with pytest.raises(ValueError, match='must be in the order of model.modalities'):
        MODELS.build(cfg)
    cfg['fusion']['modalities'] = ('rgb', )
    with pytest.raises(ValueError, match='each once'):
        MODELS.build(cfg)
