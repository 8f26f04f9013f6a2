# Copyright (c) mmdistill contributors.
"""Θ-Average benchmark: FLOPs and peak memory of a KARMMA fusion block.

Teacher-sized fusion block (D=768, l=2, 8 heads, attention dropout 0.3,
strategy B5) over 3 modalities with 1024-d feature-extractor tokens,
k=785 tokens per modality (Swin-B output of KARMMA), for Θ ∈ {none, 300,
100}. For each setting it prints

* forward GFLOPs (``mmengine.analysis.FlopAnalyzer``; 1 FLOP = 1
  multiply-add as in fvcore/mmengine; ``scaled_dot_product_attention`` is
  counted with an added handle: B·H·Lq·Lk·(d_qk + d_v));
* peak memory of one training forward+backward: on CUDA
  ``torch.cuda.max_memory_allocated`` minus the memory allocated before the
  step; on CPU the peak-RSS increase (``VmHWM`` − ``VmRSS`` before the step)
  of a fresh subprocess per setting (approximate: includes allocator
  overhead, parameter gradients, and anything the CPU allocator keeps);

and the ratios against "none" measured in the same run (compare with
KARMMA Tab. 4, which reports GFLOPs and training memory of the fusion block
for a bimodal teacher).

Usage::

    python benchmarks/theta_average.py [--batch-size 2] [--device cpu|cuda]
"""
import argparse
import json
import os
import subprocess
import sys

import torch

K_TOKENS = 785
MODALITIES = ('rgb', 'flow', 'audio')
IN_CHANNELS = 1024
SETTINGS = ('none', '300', '100')


def _build(theta):
    from mmdistill_plugin.models.fusion import KARMMAFusionBlock
    from mmdistill_plugin.models.necks import ThetaAverage
    reducer = ThetaAverage(None if theta == 'none' else int(theta))
    k = reducer.num_output_tokens(K_TOKENS)
    fusion = KARMMAFusionBlock(
        in_channels={m: IN_CHANNELS
                     for m in MODALITIES},
        num_tokens={m: k
                    for m in MODALITIES},
        embed_dims=768,
        num_layers=2,
        num_heads=8,
        attn_drop=0.3,
        strategy='B5')

    class Model(torch.nn.Module):

        def __init__(self):
            super().__init__()
            self.reducer = reducer
            self.fusion = fusion

        def forward(self, *feats):
            toks = {m: self.reducer(f) for m, f in zip(MODALITIES, feats)}
            return self.fusion(toks)

    return Model(), k


def _sdpa_flop_jit(inputs, outputs):
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(inputs[i]) for i in range(3))
    batch = 1
    for s in q[:-2]:
        batch *= s
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


def flops(theta, batch_size):
    from mmengine.analysis import FlopAnalyzer
    model, _ = _build(theta)
    model.eval()
    feats = tuple(
        torch.randn(batch_size, K_TOKENS, IN_CHANNELS) for _ in MODALITIES)
    fa = FlopAnalyzer(model, feats)
    fa.set_op_handle('aten::scaled_dot_product_attention', _sdpa_flop_jit)
    fa.unsupported_ops_warnings(False)
    fa.uncalled_modules_warnings(False)
    return fa.total()


def _proc_kib(field):
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith(field + ':'):
                return int(line.split()[1])
    raise RuntimeError(field)


def child(theta, batch_size, device):
    """One training forward+backward; prints JSON with peak bytes."""
    torch.manual_seed(0)
    model, k = _build(theta)
    model.train().to(device)
    feats = [
        torch.randn(batch_size, K_TOKENS, IN_CHANNELS, device=device)
        for _ in MODALITIES
    ]
    if device == 'cuda':
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        model(*feats).pow(2).mean().backward()
        torch.cuda.synchronize()
        peak = torch.cuda.max_memory_allocated() - base
    else:
        try:  # reset the peak-RSS watermark (Linux >= 4.0)
            with open('/proc/self/clear_refs', 'w') as f:
                f.write('5')
        except OSError:
            pass
        base = _proc_kib('VmRSS')
        model(*feats).pow(2).mean().backward()
        peak = (_proc_kib('VmHWM') - base) * 1024
    print(json.dumps(dict(theta=theta, tokens=k, peak_bytes=peak)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--batch-size', type=int, default=2)
    parser.add_argument(
        '--device',
        default='cuda' if torch.cuda.is_available() else 'cpu',
        choices=['cpu', 'cuda'])
    parser.add_argument('--child', default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.batch_size, args.device)
        return

    print(f'KARMMA fusion block (D=768, l=2, 8 heads, B5), '
          f'{len(MODALITIES)} modalities x {K_TOKENS} tokens x '
          f'{IN_CHANNELS} ch, batch {args.batch_size}, device '
          f'{args.device}')
    rows = []
    for theta in SETTINGS:
        gflops = flops(theta, args.batch_size) / 1e9
        out = subprocess.run([
            sys.executable,
            os.path.abspath(__file__), '--child', theta, '--batch-size',
            str(args.batch_size), '--device', args.device
        ], check=True, capture_output=True, text=True)
        res = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append((theta, res['tokens'], gflops, res['peak_bytes'] / 2**20))
    _, _, g0, m0 = rows[0]
    print(f'{"Θ":>6} {"tokens/mod":>10} {"GFLOPs(fwd)":>12} '
          f'{"peak MiB(f+b)":>14} {"FLOPs/none":>11} {"mem/none":>9}')
    for theta, k, g, mem in rows:
        print(f'{theta:>6} {k:>10} {g:>12.2f} {mem:>14.1f} '
              f'{g / g0:>11.3f} {mem / m0:>9.3f}')


if __name__ == '__main__':
    main()
