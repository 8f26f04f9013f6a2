#!/usr/bin/env python
"""Parameters, GFLOPs, peak memory and latency of models at inference (KARMMA Fig. 5, Tab. 2).

For each CONFIG (teacher, student, baseline, ...) and, for a ``MultimodalRecognizer``, each
non-empty modality combination (KARMMA Tab. 1 order), prints one Markdown table row:

* ``params (M)`` total / trainable: ``sum(p.numel())`` over ``model.parameters()`` (trainable:
  ``requires_grad``), in millions. A frozen feature extractor counts in total, not trainable.
* ``GFLOPs``: mmengine's ``FlopAnalyzer`` (fvcore counting: one multiply-add = one FLOP; element-
  wise ops are not counted) on one inference forward of the whole batch, divided by the batch
  size (GFLOPs per sample). Operators it cannot count are listed under the table.
* ``peak mem (MiB)``: bytes held by the model's weights, buffers and inputs plus the largest
  amount torch allocated above that during one inference forward. CPU: from the allocation
  events of ``torch.profiler`` (``profile_memory=True``; each carries the allocator's running
  total, the data ``export_memory_timeline`` plots); CUDA: ``torch.cuda.max_memory_allocated``.
* ``latency (ms)``: median over ``--runs`` forwards after ``--warmup`` (CUDA synchronised), for
  the whole batch.

What runs: the recognizer that is deployed, in eval mode under ``torch.no_grad()``: a
``DistillRecognizer`` is measured through its ``.student`` (its teacher is never built); a
``LogitEnsemble`` (mm2rgb teacher) with all its members. No checkpoint is loaded (random weights:
the cost is the same), so no ``work_dirs`` are needed. The data preprocessor (normalisation) runs
before the measured forward and is not counted, except inside a ``LogitEnsemble``, whose members
normalise their own inputs in its forward.

Inputs (no dataset on disk): the config's test pipeline is run on a synthetic sample whose loaders
(``LoadRGBFrames``, ``LoadFlowFrames``, ``LoadAudioLogMel``, ``LoadBoxes``) are given
``allow_missing=True`` and point nowhere, so they fill arrays of the configured shape (frames of
``--raw-size`` H W, then the pipeline's own resize/crop, sampling and packing); the zeros are then
replaced by random values and every modality marked present. ``--input-shape rgb=1,3,8,224,224``
replaces one packed per-sample input (``[N, C, T, H, W]``, ``[N, 1, F, M]`` audio, ``[N, T, K, 6]``
boxes, see docs/data_model.md) by a random tensor of that shape.

Modality combinations: ``test_cfg.drop_modalities`` of a ``MultimodalRecognizer`` hides the
dropped modalities from the fusion block (learned missing-modality tokens replace them), and at
test time the recognizer does not run the feature extractor of a modality missing for the whole
batch (the fusion ignores its values), so GFLOPs, memory and latency drop with the modalities
(``FEs run`` = the present ones). ``--skip-dropped`` adds rows where each dropped feature
extractor is also replaced by a stub returning zeros of its output shape (a cross-check: same
logits, checked at run time, and the same cost).

Examples::

    python tools/analysis/efficiency.py configs/karmma/toy/teacher_epic.py \
        configs/karmma/toy/student_epic.py --names KARMMA_T KARMMA_S \
        --out-md work_dirs/efficiency.md --out-png work_dirs/efficiency.png
    python tools/analysis/efficiency.py configs/karmma/teacher_epic.py \
        configs/karmma/student_epic.py --device cuda --batch-size 1 --skip-dropped
"""
import argparse
import copy
import itertools
import logging
import os
import os.path as osp
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config, DictAction
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from torch.utils import _pytree as pytree
from tqdm import tqdm

LETTERS = dict(rgb='V', flow='F', audio='A', boxes='D', depth='Z', rgb_diff='R')
LOADERS = ('LoadRGBFrames', 'LoadFlowFrames', 'LoadAudioLogMel', 'LoadBoxes')
MIB = 2 ** 20


# --------------------------------------------------------------------------- models
def build_model(cfg: Config, device: str = 'cpu') -> Tuple[nn.Module, nn.Module]:
    """``(outer, recognizer)`` built from ``cfg.model`` without any checkpoint, in eval mode.

    ``recognizer`` is what is measured: ``outer.student`` for a ``DistillRecognizer`` (whose
    teacher stays unbuilt), else ``outer`` itself. No weight file is loaded
    (:func:`drop_checkpoints`).
    """
    from mmaction.registry import MODELS
    model_cfg = copy.deepcopy(cfg.model)
    drop_checkpoints(model_cfg)
    outer = MODELS.build(model_cfg)
    recognizer = outer.student if hasattr(outer, 'build_teacher') else outer
    recognizer.to(device).eval()
    if recognizer is not outer:
        outer.data_preprocessor.to(device)
        outer.data_preprocessor._device = torch.device(device)
    return outer, recognizer


def drop_checkpoints(node):
    """Remove every weight file from a model config, recursively: ``checkpoint`` /
    ``teacher_ckpt`` entries (``LogitEnsemble`` members, ``FlowProbeRecognizer``,
    ``DistillRecognizer``) and string ``pretrained`` become None, ``init_cfg`` of type
    ``Pretrained`` is removed. Costs do not depend on the weights."""
    if isinstance(node, dict):
        for key in list(node):
            v = node[key]
            if key in ('checkpoint', 'teacher_ckpt') and isinstance(v, str):
                node[key] = None
            elif key == 'pretrained' and isinstance(v, str):
                node[key] = None
            elif key == 'init_cfg' and isinstance(v, dict) and v.get('type') == 'Pretrained':
                node[key] = None
            else:
                drop_checkpoints(v)
    elif isinstance(node, (list, tuple)):
        for v in node:
            drop_checkpoints(v)


def count_params(model: nn.Module) -> Tuple[int, int]:
    """``(total, trainable)`` numbers of parameters (``requires_grad``) of ``model``."""
    params = list(model.parameters())
    return sum(p.numel() for p in params), sum(p.numel() for p in params if p.requires_grad)


def model_modalities(recognizer: nn.Module) -> Optional[Tuple[str, ...]]:
    """The modalities a ``MultimodalRecognizer`` can drop at test time, else None."""
    if hasattr(recognizer, 'backbones') and hasattr(recognizer, 'modalities') and \
            hasattr(recognizer, 'test_cfg'):
        return tuple(recognizer.modalities)
    return None


def combinations(modalities: Sequence[str]) -> List[Tuple[str, ...]]:
    """Non-empty subsets, largest first, in the model's modality order (KARMMA Tab. 1)."""
    out = []
    for size in range(len(modalities), 0, -1):
        out.extend(itertools.combinations(modalities, size))
    return out


def label(combo: Sequence[str]) -> str:
    return '+'.join(LETTERS.get(m, m) for m in combo)


# --------------------------------------------------------------------------- inputs
def _test_pipeline(cfg: Config) -> list:
    for key in ('test_dataloader', 'val_dataloader', 'train_dataloader'):
        if key in cfg and cfg[key] is not None:
            return copy.deepcopy(cfg[key]['dataset']['pipeline'])
    raise KeyError('the config has no test/val/train dataloader: give every input with '
                   '--input-shape MODALITY=N,C,... ')


def synthetic_sample(cfg: Config, raw_size: Tuple[int, int] = (240, 320),
                     total_frames: int = 300, seed: int = 0) -> dict:
    """One packed sample (``inputs`` dict, ``data_samples``) from the config's test pipeline,
    with loaders that read nothing (see the module docstring) and random values of the
    pipeline's output shapes/dtypes; every modality is marked present and available.

    Raises:
        KeyError: the config has no dataloader pipeline.
    """
    pipeline = _test_pipeline(cfg)
    loaded = []
    for t in pipeline:
        if t['type'] in LOADERS:
            t['allow_missing'] = True
            loaded.append(t['type'])
            if t['type'] in ('LoadRGBFrames', 'LoadFlowFrames'):
                t['missing_shape'] = tuple(raw_size)
    nowhere = '/nonexistent/efficiency_synthetic'
    results = dict(
        modalities=tuple(_loaded_modalities(loaded)), label=0, total_frames=total_frames,
        start_index=1, frame_dir=nowhere, flow_dir=nowhere, audio_path=nowhere + '.wav',
        boxes_info=None, video_id='synthetic', filename_tmpl='img_{:05d}.jpg')
    # The zero-fill warnings are expected here: silence them.
    logger = MMLogger.get_current_instance()
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        packed = Compose(pipeline)(results)
    finally:
        logger.setLevel(level)
    g = torch.Generator().manual_seed(seed)
    inputs = packed['inputs']
    if isinstance(inputs, dict):
        packed['inputs'] = {m: random_input(m, x, g) for m, x in inputs.items()}
    else:
        packed['inputs'] = random_input(None, inputs, g)
    _mark_all_present(packed['data_samples'])
    return packed


def _loaded_modalities(loaders):
    names = dict(LoadRGBFrames='rgb', LoadFlowFrames='flow', LoadAudioLogMel='audio',
                 LoadBoxes='boxes')
    return [names[t] for t in loaders]


def random_input(modality: Optional[str], x, g: torch.Generator):
    """Random values shaped like the packed input ``x``: pixel values in [0, 255] for images,
    N(0, 1) log-mel for ``audio``, valid boxes (coordinates in [0, 1], category 1 or 2, valid
    flag 1) for ``boxes`` ``[N, T, K, 6]``."""
    if not isinstance(x, torch.Tensor):
        return x
    if modality == 'boxes':
        out = torch.rand(x.shape, generator=g)
        xy = out[..., :4].sort(-1).values  # x1 <= y1 <= x2 <= y2 keeps x1 < x2, y1 < y2
        out[..., :4] = xy[..., [0, 1, 2, 3]]
        out[..., 4] = torch.randint(1, 3, x.shape[:-1], generator=g).float()
        out[..., 5] = 1.0
        return out.to(x.dtype)
    if modality == 'audio':
        return torch.randn(x.shape, generator=g).to(x.dtype)
    if not x.is_floating_point():
        return torch.randint(0, 256, x.shape, generator=g).to(x.dtype)
    return (torch.rand(x.shape, generator=g) * 255).to(x.dtype)


def _mark_all_present(ds):
    mods = ds.metainfo.get('modalities')
    if mods is None:
        return
    ds.set_metainfo(dict(modality_present={m: True for m in mods},
                         modality_mask={m: True for m in mods}))


def parse_input_shapes(items: Optional[Sequence[str]]) -> Dict[str, Tuple[int, ...]]:
    """``['rgb=1,3,8,224,224', ...]`` → ``dict(rgb=(1, 3, 8, 224, 224))``.

    Raises:
        ValueError: naming the malformed item.
    """
    out = {}
    for item in items or ():
        try:
            key, dims = item.split('=')
            out[key.strip()] = tuple(int(d) for d in dims.split(','))
        except ValueError:
            raise ValueError(f'--input-shape {item!r}: expected MODALITY=D1,D2,... '
                             f'(per-sample packed shape, e.g. rgb=1,3,8,224,224)') from None
    return out


def synthetic_batch(cfg: Config, batch_size: int = 1,
                    input_shapes: Optional[Dict[str, Tuple[int, ...]]] = None,
                    raw_size: Tuple[int, int] = (240, 320), seed: int = 0) -> dict:
    """A collated batch as the dataloader gives it: ``inputs`` dict of lists of per-sample
    tensors (a plain list for a single-modality pipeline) and a list of data samples.

    ``input_shapes`` overrides (or adds) per-sample packed inputs with random tensors.
    """
    samples = []
    g = torch.Generator().manual_seed(seed + 1)
    for i in range(batch_size):
        s = synthetic_sample(cfg, raw_size, seed=seed + i)
        for mod, shape in (input_shapes or {}).items():
            x = random_input(mod, torch.empty(shape), g)
            if isinstance(s['inputs'], dict):
                s['inputs'][mod] = x
            else:
                s['inputs'] = x
        samples.append(s)
    return pseudo_collate(samples)


def preprocess(outer: nn.Module, recognizer: nn.Module, batch: dict):
    """The recognizer's ``(inputs, data_samples)`` after the data preprocessors (outer's then,
    for a ``DistillRecognizer``, the student's), on the model's device."""
    data = outer.data_preprocessor(copy.copy(batch), False)
    if recognizer is not outer:
        from mmdistill_plugin.models.utils import select_inputs
        data = dict(inputs=select_inputs(data['inputs'], outer.student_modality),
                    data_samples=data['data_samples'])
        data = recognizer.data_preprocessor(data, False)
    return data['inputs'], data['data_samples']


def input_shapes_of(inputs) -> str:
    """``'rgb 1x1x3x8x32x32, flow ...'`` of preprocessed inputs (for the table footnote)."""
    if isinstance(inputs, torch.Tensor):
        return 'x'.join(map(str, inputs.shape))
    if isinstance(inputs, dict):
        return ', '.join(f'{k} {input_shapes_of(v)}' for k, v in inputs.items())
    if isinstance(inputs, (list, tuple)):
        return f'{len(inputs)}×[{input_shapes_of(inputs[0])}]' if inputs else '[]'
    return type(inputs).__name__


# --------------------------------------------------------------------------- forward
class LogitsForward(nn.Module):
    """``forward(*tensors)``: the recognizer's class logits in test mode (a model without a
    classification head: its ``mode='tensor'`` output), for tracing.

    ``inputs`` (any nesting of dicts/lists of tensors) is flattened into positional tensors so
    that ``FlopAnalyzer``'s tracer sees tensors only; ``data_samples`` are constants.
    """

    def __init__(self, recognizer: nn.Module, inputs, data_samples):
        super().__init__()
        self.recognizer = recognizer
        self.leaves, self.spec = pytree.tree_flatten(inputs)
        self.data_samples = data_samples
        self.classifier = hasattr(recognizer, 'forward_logits') or (
            hasattr(recognizer, 'extract_feat') and hasattr(recognizer, 'cls_head'))

    def forward(self, *leaves):
        from mmdistill_plugin.models.utils import recognizer_logits
        inputs = pytree.tree_unflatten(list(leaves), self.spec)
        model = self.recognizer
        if self.classifier:
            logits = recognizer_logits(model, inputs, self.data_samples, test_mode=True)
            return tuple(logits[k] for k in sorted(logits))
        # Not a classifier (e.g. FlowProbeRecognizer): its tensor-mode output.
        out = model(inputs, self.data_samples, mode='tensor')
        return tuple(t for t in pytree.tree_leaves(out) if isinstance(t, torch.Tensor))

    def run(self):
        with torch.no_grad():
            return self(*self.leaves)


def _shape(val) -> List[int]:
    from mmengine.analysis.jit_handles import get_shape
    return list(get_shape(val))


def native_mha_flop_jit(inputs, outputs) -> int:
    """FLOPs of ``aten::_native_multi_head_attention`` (``nn.MultiheadAttention``'s fused
    inference path, which mmengine does not count): query/key/value projections
    ``B·(L + 2S)·D²``, ``Q·Kᵀ`` and ``A·V`` ``2·B·L·S·D``, output projection ``B·L·D²``, for
    query ``[B, L, D]`` and key/value ``[B, S, D]`` (one multiply-add = 1)."""
    q, k = _shape(inputs[0]), _shape(inputs[1])
    d = q[-1]
    batch = int(np.prod(q[:-2])) if len(q) > 2 else 1
    length, source = q[-2], k[-2]
    return batch * ((length + 2 * source) * d * d + 2 * length * source * d + length * d * d)


def sdpa_flop_jit(inputs, outputs) -> int:
    """FLOPs of ``aten::scaled_dot_product_attention``: ``Q·Kᵀ`` + ``A·V`` =
    ``N·L·S·(E + Ev)`` for query ``[..., L, E]``, key ``[..., S, E]``, value ``[..., S, Ev]``."""
    q, k, v = _shape(inputs[0]), _shape(inputs[1]), _shape(inputs[2])
    batch = int(np.prod(q[:-2]))
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


# Elementwise ops and reductions: not counted by mmengine/fvcore's convention, not listed.
ELEMENTWISE = {f'aten::{op}' for op in (
    'add', 'add_', 'sub', 'rsub', 'mul', 'mul_', 'div', 'div_', 'neg', 'exp', 'log', 'sqrt',
    'rsqrt', 'pow', 'relu', 'relu_', 'gelu', 'silu', 'sigmoid', 'tanh', 'softmax', 'log_softmax',
    'mean', 'sum', 'where', 'expand_as', 'pad', 'one_hot', 'repeat_interleave', 'repeat',
    'avg_pool3d', 'adaptive_avg_pool3d', 'max_pool3d', 'max_pool2d', 'avg_pool2d', 'abs',
    'lt', 'le', 'ne', 'logical_not', 'logical_and', 'roll', 'fill_', 'zero_', 'masked_fill_',
    'clone', 'type_as', 'linspace', 'cumsum', 'square', 'erf', 'hardtanh', 'leaky_relu',
    'batch_norm', 'scatter', 'scatter_', 'unflatten', 'new_zeros', 'ones', 'ones_like',
    'zeros', 'zeros_like', 'scalar_tensor')}


def count_flops(model: nn.Module,
                inputs: Tuple[torch.Tensor, ...]) -> Tuple[int, Dict[str, int]]:
    """``(flops, unsupported)`` of ``model(*inputs)`` under ``torch.no_grad()``: mmengine
    ``FlopAnalyzer`` total (one fused multiply-add = 1; fused attention ops counted by
    :func:`native_mha_flop_jit` and :func:`sdpa_flop_jit`) and ``op -> count`` of the
    non-elementwise operators it skipped."""
    from mmengine.analysis import FlopAnalyzer
    with torch.no_grad():
        analyzer = FlopAnalyzer(model, tuple(inputs))
        analyzer.set_op_handle(**{
            'aten::_native_multi_head_attention': native_mha_flop_jit,
            'aten::scaled_dot_product_attention': sdpa_flop_jit})
        analyzer.unsupported_ops_warnings(False).uncalled_modules_warnings(False)
        analyzer.tracer_warnings('none')
        total = analyzer.total()
        unsupported = {k: v for k, v in analyzer.unsupported_ops().items()
                       if k not in ELEMENTWISE}
    return int(total), unsupported


def held_bytes(model: nn.Module, inputs) -> int:
    """Bytes of the storages of ``model``'s parameters and buffers and of ``inputs``."""
    tensors = list(model.parameters()) + list(model.buffers()) + \
        [t for t in pytree.tree_leaves(inputs) if isinstance(t, torch.Tensor)]
    seen, total = set(), 0
    for t in tensors:
        key = t.untyped_storage().data_ptr()
        if key not in seen:
            seen.add(key)
            total += t.untyped_storage().nbytes()
    return total


def peak_extra_memory(run: Callable[[], object], device: str) -> int:
    """The largest number of bytes allocated by torch during ``run()`` above what was allocated
    before it (activations, temporaries, outputs).

    CPU: the allocation events recorded by ``torch.profiler.profile(profile_memory=True)``
    carry the allocator's running total since profiling started (the data
    ``export_memory_timeline`` plots); their maximum is the peak. CUDA:
    ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``, minus the bytes
    allocated before.
    """
    if device.startswith('cuda'):
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        run()
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated() - before
    from torch._C._profiler import _EventType
    from torch.profiler import ProfilerActivity, profile
    with profile(activities=[ProfilerActivity.CPU], profile_memory=True) as prof:
        run()
    peak = 0
    stack = list(prof.profiler.kineto_results.experimental_event_tree())
    while stack:
        node = stack.pop()
        if node.tag == _EventType.Allocation and node.extra_fields.device.type == 'cpu':
            peak = max(peak, node.extra_fields.total_allocated)
        stack.extend(node.children)
    return peak


def median_latency(fn: Callable[[], object], device: str, warmup: int = 3,
                   runs: int = 10) -> float:
    """Median wall time in seconds of ``fn()`` over ``runs`` calls after ``warmup`` calls."""
    sync = torch.cuda.synchronize if device.startswith('cuda') else (lambda: None)
    for _ in range(warmup):
        fn()
    sync()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


# --------------------------------------------------------------------------- dropped FEs
class ZeroFeatures(nn.Module):
    """Stand-in for a dropped modality's feature extractor: zeros of its output shape(s)."""

    def __init__(self, example):
        super().__init__()
        self.shapes = pytree.tree_map(
            lambda t: (tuple(t.shape), t.dtype) if isinstance(t, torch.Tensor) else t, example)
        self._spec = pytree.tree_structure(example)

    def forward(self, x):
        leaves = pytree.tree_leaves(self.shapes, is_leaf=lambda v: isinstance(v, tuple)
                                    and len(v) == 2 and isinstance(v[1], torch.dtype))
        out = [torch.zeros(s, dtype=d, device=x.device) for s, d in leaves]
        return pytree.tree_unflatten(out, self._spec)


def backbone_outputs(fwd: LogitsForward) -> dict:
    """Output of each modality's feature extractor on ``fwd``'s inputs (every extractor runs:
    ``drop_modalities`` is lifted meanwhile, since the recognizer skips dropped ones)."""
    outs, hooks = {}, []
    test_cfg = fwd.recognizer.test_cfg
    saved = test_cfg.pop('drop_modalities', None)
    for m, bb in fwd.recognizer.backbones.items():
        hooks.append(bb.register_forward_hook(
            lambda mod, args, out, m=m: outs.__setitem__(m, out)))
    try:
        fwd.run()
    finally:
        for h in hooks:
            h.remove()
        if saved is not None:
            test_cfg['drop_modalities'] = saved
    return outs


class skipped_backbones:
    """Context manager replacing ``recognizer.backbones[m]`` by :class:`ZeroFeatures` for each
    dropped ``m`` (restored on exit)."""

    def __init__(self, recognizer, dropped, examples):
        self.recognizer, self.dropped, self.examples = recognizer, dropped, examples
        self.saved = {}

    def __enter__(self):
        for m in self.dropped:
            self.saved[m] = self.recognizer.backbones[m]
            self.recognizer.backbones[m] = ZeroFeatures(self.examples[m])
        return self

    def __exit__(self, *exc):
        for m, bb in self.saved.items():
            self.recognizer.backbones[m] = bb
        return False


# --------------------------------------------------------------------------- measure
def measure(fwd: LogitsForward, device: str, warmup: int, runs: int, batch_size: int,
            flops: bool = True, memory: bool = True, latency: bool = True) -> dict:
    """One row's numbers (GFLOPs per sample, peak/held MiB, latency ms per batch)."""
    row = {}
    if flops and not fwd.classifier:
        # e.g. FlowProbeRecognizer ends its backbone pass with an exception raised in a hook,
        # which aborts torch.jit tracing (a C++ assert, not catchable): no FLOPs.
        row['gflops'] = None
        row['unsupported'] = {'the whole model (no class logits, not traced)': 1}
    elif flops:
        total, unsupported = count_flops(fwd, tuple(fwd.leaves))
        row['gflops'] = total / batch_size / 1e9
        row['unsupported'] = unsupported
    if memory:
        held = held_bytes(fwd.recognizer, fwd.leaves)
        peak = held + peak_extra_memory(fwd.run, device)
        row['peak_mib'], row['held_mib'] = peak / MIB, held / MIB
    if latency:
        row['latency_ms'] = 1000 * median_latency(fwd.run, device, warmup, runs)
    return row


def efficiency_rows(name: str, cfg: Config, device: str = 'cpu', batch_size: int = 1,
                    warmup: int = 3, runs: int = 10,
                    input_shapes: Optional[Dict[str, Tuple[int, ...]]] = None,
                    raw_size: Tuple[int, int] = (240, 320), combos: str = 'all',
                    skip_dropped: bool = False, flops: bool = True, memory: bool = True,
                    latency: bool = True) -> List[dict]:
    """All rows of one config: one per modality combination (``combos='all'``) or the full set
    only (``'full'``), plus the ``--skip-dropped`` rows.

    Raises:
        RuntimeError: when a skipped-extractor forward does not give the same logits as the
            model with the modality dropped (the stub would then change the result).
    """
    init_default_scope(cfg.get('default_scope', 'mmaction'))
    outer, recognizer = build_model(cfg, device)
    total, trainable = count_params(recognizer)
    batch = synthetic_batch(cfg, batch_size, input_shapes, raw_size)
    inputs, samples = preprocess(outer, recognizer, batch)
    fwd = LogitsForward(recognizer, inputs, samples)
    base = dict(model=name, config=cfg.filename, type=type(recognizer).__name__,
                params_m=total / 1e6, trainable_m=trainable / 1e6,
                inputs=input_shapes_of(inputs), batch_size=batch_size, device=device)
    mods = model_modalities(recognizer)
    if mods is None:
        return [dict(base, combo='all', fes_run='all',
                     **measure(fwd, device, warmup, runs, batch_size, flops, memory, latency))]
    todo = combinations(mods) if combos == 'all' else [tuple(mods)]
    rows = []
    saved_drop = recognizer.test_cfg.get('drop_modalities')
    examples = backbone_outputs(fwd) if skip_dropped else None
    try:
        for combo in tqdm(todo, desc=f'{name} combinations', unit='combo', leave=False):
            dropped = [m for m in mods if m not in combo]
            recognizer.test_cfg['drop_modalities'] = dropped
            row = dict(base, combo=label(combo), fes_run=label(combo))
            rows.append(dict(row, **measure(fwd, device, warmup, runs, batch_size, flops,
                                            memory, latency)))
            if skip_dropped and dropped:
                ref = fwd.run()
                with skipped_backbones(recognizer, dropped, examples):
                    got = fwd.run()
                    if any(not torch.allclose(a, b, atol=1e-5, rtol=1e-4)
                           for a, b in zip(ref, got)):
                        raise RuntimeError(
                            f'{name} {label(combo)}: logits with the dropped feature '
                            f'extractors skipped differ from the model\'s')
                    rows.append(dict(row, fes_run=label(combo), **measure(
                        fwd, device, warmup, runs, batch_size, flops, memory, latency)))
    finally:
        if saved_drop is None:
            recognizer.test_cfg.pop('drop_modalities', None)
        else:
            recognizer.test_cfg['drop_modalities'] = saved_drop
    return rows


# --------------------------------------------------------------------------- output
def _fmt(v, spec):
    return 'n/a' if v is None else format(v, spec)


def markdown_table(rows: List[dict]) -> str:
    """The Markdown table (one line per row) and its footnotes (inputs, unsupported ops)."""
    head = ('| model | modalities | FEs run | params (M) | trainable (M) | GFLOPs/sample | '
            'peak mem (MiB) | latency (ms/batch) |')
    lines = [head, '|---|---|---|---:|---:|---:|---:|---:|']
    for r in rows:
        lines.append(
            f"| {r['model']} | {r['combo']} | {r['fes_run']} | {r['params_m']:.3f} | "
            f"{r['trainable_m']:.3f} | {_fmt(r.get('gflops'), '.4f')} | "
            f"{_fmt(r.get('peak_mib'), '.1f')} | {_fmt(r.get('latency_ms'), '.2f')} |")
    notes, seen = [], set()
    for r in rows:
        if r['model'] in seen:
            continue
        seen.add(r['model'])
        notes.append(f"- {r['model']}: `{r['config']}` ({r['type']}), batch {r['batch_size']} "
                     f"on {r['device']}, inputs {r['inputs']}; weights+inputs "
                     f"{_fmt(r.get('held_mib'), '.1f')} MiB of the peak.")
        unsupported = r.get('unsupported') or {}
        if unsupported:
            ops = ', '.join(f'{k}×{v}' for k, v in sorted(unsupported.items()))
            notes.append(f"  Not counted by FlopAnalyzer (besides elementwise ops): {ops}.")
    if any(r['combo'] != 'all' for r in rows):
        notes.append('- "FEs run": the feature extractors the recognizer runs (it skips a '
                     'modality missing for the whole batch at test time; --skip-dropped rows '
                     'stub them out as a cross-check, same logits).')
    return '\n'.join(lines) + '\n\n' + '\n'.join(notes) + '\n'


def bar_chart(rows: List[dict], path: str) -> None:
    """PNG with one bar panel per measured quantity (x: model / modalities)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    panels = [(k, t) for k, t in (('gflops', 'GFLOPs / sample'), ('peak_mib', 'peak memory (MiB)'),
                                  ('latency_ms', 'latency (ms / batch)'))
              if any(r.get(k) is not None for r in rows)]
    panels = panels or [('params_m', 'params (M)')]
    models = list(dict.fromkeys(r['model'] for r in rows))
    colors = {m: f'C{i}' for i, m in enumerate(models)}
    xlabels = [f"{r['model']}\n{r['combo']}" + ('' if r['fes_run'] == 'all'
                                                else f"\n(FEs {r['fes_run']})") for r in rows]
    fig, axes = plt.subplots(len(panels), 1, figsize=(max(6, 0.8 * len(rows) + 2),
                                                      2.8 * len(panels)), squeeze=False)
    x = np.arange(len(rows))
    for ax, (key, title) in zip(axes[:, 0], panels):
        vals = [r.get(key) or 0.0 for r in rows]
        bars = ax.bar(x, vals, color=[colors[r['model']] for r in rows])
        for bar, r in zip(bars, rows):
            if r['fes_run'] != 'all':  # dropped feature extractors skipped
                bar.set_hatch('//')
        ax.set_ylabel(title)
        ax.set_xticks(x)
        ax.set_xticklabels(xlabels, fontsize=7)
        ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('configs', nargs='+', metavar='CONFIG')
    p.add_argument('--names', nargs='+', help='row names (default: config file stems)')
    p.add_argument('--device', default='cpu', help='cpu or cuda[:i]')
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--runs', type=int, default=10, help='timed runs (median)')
    p.add_argument('--input-shape', nargs='+', default=None, metavar='MOD=D1,D2,...',
                   help='per-sample packed input shape, e.g. rgb=1,3,8,224,224')
    p.add_argument('--raw-size', nargs=2, type=int, default=(240, 320), metavar=('H', 'W'),
                   help='size of the synthetic decoded frames before the pipeline resizes')
    p.add_argument('--combos', choices=('all', 'full'), default='all',
                   help='every modality combination (default) or all modalities only')
    p.add_argument('--skip-dropped', action='store_true',
                   help='also measure with dropped feature extractors replaced by zero stubs')
    p.add_argument('--no-latency', action='store_true')
    p.add_argument('--no-memory', action='store_true')
    p.add_argument('--out-md', help='write the Markdown table here')
    p.add_argument('--out-png', help='write the bar chart here (PNG)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                   help='applied to every config')
    args = p.parse_args(argv)
    if args.names and len(args.names) != len(args.configs):
        p.error(f'--names has {len(args.names)} names for {len(args.configs)} configs')
    return args


def main(argv=None) -> List[dict]:
    args = parse_args(argv)
    if args.device.startswith('cuda') and not torch.cuda.is_available():
        raise SystemExit('--device cuda: CUDA is not available')
    shapes = parse_input_shapes(args.input_shape)
    rows = []
    for i, path in enumerate(args.configs):
        cfg = Config.fromfile(path)
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
        name = args.names[i] if args.names else osp.splitext(osp.basename(path))[0]
        torch.manual_seed(0)
        rows += efficiency_rows(name, cfg, args.device, args.batch_size, args.warmup,
                                args.runs, shapes, tuple(args.raw_size), args.combos,
                                args.skip_dropped, memory=not args.no_memory,
                                latency=not args.no_latency)
    table = markdown_table(rows)
    print(table)
    if args.out_md:
        os.makedirs(osp.dirname(osp.abspath(args.out_md)), exist_ok=True)
        with open(args.out_md, 'w') as f:
            f.write(table)
    if args.out_png:
        bar_chart(rows, args.out_png)
    return rows


if __name__ == '__main__':
    main()
