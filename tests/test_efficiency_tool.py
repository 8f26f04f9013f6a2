"""tools/analysis/efficiency.py: parameter counts, FLOPs, peak memory, dropped modalities and
the end-to-end table/PNG on a toy config (CPU, seconds)."""
import importlib.util
from pathlib import Path

import pytest
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.registry import init_default_scope
from tiny_models import tiny_batch, tiny_recognizer

import mmdistill_plugin  # noqa: F401  (registers the plugin's modules)
from mmaction.registry import MODELS

REPO = Path(__file__).resolve().parents[1]


def _load_tool():
    spec = importlib.util.spec_from_file_location(
        'efficiency_tool', REPO / 'tools' / 'analysis' / 'efficiency.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


eff = _load_tool()


def test_count_params_total_and_trainable():
    model = nn.Sequential(nn.Linear(10, 4), nn.Linear(4, 2))
    model[1].requires_grad_(False)
    # 10·4 + 4 = 44 trainable; 4·2 + 2 = 10 frozen.
    assert eff.count_params(model) == (54, 44)


def test_count_params_frozen_backbones_are_not_trainable():
    init_default_scope('mmaction')
    model = MODELS.build(tiny_recognizer(frozen=True))
    total, trainable = eff.count_params(model)
    backbones = sum(p.numel() for p in model.backbones.parameters())
    assert backbones > 0
    assert total == sum(p.numel() for p in model.parameters())
    assert trainable == total - backbones


def test_flops_of_linear_and_fused_attention():
    lin = nn.Linear(7, 5)
    flops, unsupported = eff.count_flops(lin, (torch.randn(3, 7), ))
    assert flops == 3 * 7 * 5 and unsupported == {}

    class Attn(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)

        def forward(self, x):
            return self.attn(x, x, x, need_weights=False)[0]

    m, x = Attn(), torch.randn(2, 5, 16)
    b, n, d = 2, 5, 16
    hand = b * (3 * n * d * d + 2 * n * n * d + n * d * d)
    m.eval()  # fused aten::_native_multi_head_attention
    fused, unsupported = eff.count_flops(m, (x, ))
    assert fused == hand and unsupported == {}
    m.train()  # linear projections + scaled_dot_product_attention
    unfused, _ = eff.count_flops(m, (x, ))
    assert unfused == hand


def test_peak_extra_memory_cpu_is_the_two_live_activations():
    model = nn.Sequential(nn.Linear(100, 200), nn.ReLU(), nn.Linear(200, 10))
    x = torch.randn(64, 100)
    with torch.no_grad():
        extra = eff.peak_extra_memory(lambda: model(x), 'cpu')
    # Linear output and ReLU output (64·200 float32 each) are alive together at the peak.
    assert extra == 2 * 64 * 200 * 4
    assert eff.held_bytes(model, x) == 4 * (100 * 200 + 200 + 200 * 10 + 10 + 64 * 100)


def _tiny_forward():
    init_default_scope('mmaction')
    model = MODELS.build(tiny_recognizer()).eval()
    batch = tiny_batch(batch_size=2)
    inputs, samples = eff.preprocess(model, model, batch)
    return model, eff.LogitsForward(model, inputs, samples)


def test_dropped_modality_backbone_is_skipped_and_stubbing_it_agrees():
    model, fwd = _tiny_forward()
    full, _ = eff.count_flops(fwd, tuple(fwd.leaves))
    model.test_cfg['drop_modalities'] = ['audio']
    dropped, _ = eff.count_flops(fwd, tuple(fwd.leaves))
    ref = fwd.run()
    examples = eff.backbone_outputs(fwd)
    with eff.skipped_backbones(model, ['audio'], examples):
        skipped, _ = eff.count_flops(fwd, tuple(fwd.leaves))
        got = fwd.run()
    audio_only = eff.count_flops(model.backbones['audio'],
                                 (fwd.leaves[2].flatten(0, 1), ))[0]
    # The recognizer skips the dropped audio extractor itself; the stub agrees.
    assert 0 < audio_only and dropped == full - audio_only and skipped == dropped
    for a, b in zip(ref, got):
        torch.testing.assert_close(a, b)
    assert type(model.backbones['audio']).__name__ == 'AudioSpectrogramTransformer'


def test_synthetic_batch_has_the_test_pipeline_shapes():
    cfg = Config.fromfile(str(REPO / 'configs/karmma/toy/student_epic.py'))
    init_default_scope('mmaction')
    batch = eff.synthetic_batch(cfg, batch_size=2)
    assert [tuple(x.shape) for x in batch['inputs']['rgb']] == [(1, 3, 8, 32, 32)] * 2
    assert tuple(batch['inputs']['flow'][0].shape) == (1, 2, 8, 32, 32)
    assert tuple(batch['inputs']['audio'][0].shape) == (1, 1, 128, 64)
    assert batch['data_samples'][0].metainfo['modality_mask'] == dict(
        rgb=True, flow=True, audio=True)
    over = eff.synthetic_batch(cfg, 1, eff.parse_input_shapes(['rgb=1,3,4,16,16']))
    assert tuple(over['inputs']['rgb'][0].shape) == (1, 3, 4, 16, 16)
    with pytest.raises(ValueError, match='rgb:1'):
        eff.parse_input_shapes(['rgb:1'])


def test_end_to_end_toy_student_table_and_png(tmp_path):
    md, png = tmp_path / 'eff.md', tmp_path / 'eff.png'
    rows = eff.main([str(REPO / 'configs/karmma/toy/student_epic.py'), '--names', 'KARMMA_S',
                     '--combos', 'full', '--warmup', '0', '--runs', '1', '--skip-dropped',
                     '--out-md', str(md), '--out-png', str(png)])
    text = md.read_text()
    assert '| KARMMA_S | V+F+A | V+F+A |' in text
    assert len(rows) == 1 and rows[0]['type'] == 'MultimodalRecognizer'
    # The student of a DistillRecognizer is measured, its teacher is not built.
    init_default_scope('mmaction')
    student = MODELS.build(Config.fromfile(
        str(REPO / 'configs/karmma/toy/student_epic.py')).model['student'])
    assert rows[0]['params_m'] == pytest.approx(eff.count_params(student)[0] / 1e6)
    assert rows[0]['gflops'] > 0 and rows[0]['peak_mib'] > rows[0]['held_mib'] > 0
    assert png.read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'
