# Copyright (c) mmdistill contributors.
"""Fuse separately trained streams from their score files: each stream's accuracy, Σ and Φ.

    python tools/analysis/fuse_scores.py rgb.pkl flow.pkl --labels data_list.txt
    python tools/analysis/fuse_scores.py dump.pkl               # a tools/test.py --dump file
    python tools/analysis/fuse_scores.py rgb.pkl flow.pkl --labels val.txt --fusion prob

Score files (MMAction2's pickle formats):
  - a list of per-video score arrays ``[C]`` (MMAction2 0.x ``tools/test.py --out``, e.g.
    ``demo/fuse/{rgb,flow}.pkl``): one stream per file, named after the file;
  - the output of MMAction2 1.x ``tools/test.py --dump`` (a list of dicts): ``pred_score``
    (``AccMetric`` style) or ``pred_scores`` (one entry per head / network:
    ``MultiModalityNetworks`` dumps every modality in one file, ``pred_logits`` too); labels
    come from ``gt_label(s)`` unless ``--labels`` is given.
Labels (``--labels``): a list file with the label in the last column (``video frames label``
as ``demo/fuse/data_list.txt``; MMAction2 annotation files ``path [frames] label``), or an SSv2
json with ``--labels-map labels.json``.

Σ = argmax of the sum of the streams' scores (as stored; ``--fusion prob`` applies a softmax
to each first, ``logits`` uses ``pred_logits`` where a dump has them); Φ = right when any
stream's top-1 is right. Accuracies are printed in % (top-1, top-5, mean class accuracy over the
classes present in the labels).
"""
import argparse
import json
import os.path as osp
import pickle
import sys
from collections import OrderedDict

import numpy as np

sys.path.insert(0, osp.join(osp.dirname(osp.abspath(__file__)), '..', '..'))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Fuse per-stream score files (Σ, Φ)')
    p.add_argument('scores', nargs='+', help='score pickle files (one per stream, or a dump)')
    p.add_argument('--labels', help='label list (last column = label) or SSv2 json')
    p.add_argument('--labels-map', help='SSv2 labels.json, for a json --labels file')
    p.add_argument('--fusion', choices=('scores', 'logits', 'prob'), default='scores',
                   help='what Σ sums: the stored scores, logits (dumps with pred_logits) or '
                   'softmax probabilities')
    p.add_argument('--topk', type=int, nargs='+', default=[1, 5])
    p.add_argument('--names', nargs='+', help='stream names (default: file names / dump keys)')
    return p.parse_args(argv)


def _np(x):
    return x.detach().cpu().numpy() if hasattr(x, 'detach') else np.asarray(x)


def load_scores(path: str, fusion: str = 'scores'):
    """``(OrderedDict(stream -> [N, C]), labels [N] or None)`` from one pickle file.

    Raises:
        ValueError: an unknown layout (names the file and what it found).
    """
    with open(path, 'rb') as f:
        data = pickle.load(f)
    if not isinstance(data, (list, tuple)) or not data:
        raise ValueError(f'{path}: expected a non-empty list of per-video scores, got '
                         f'{type(data).__name__}')
    stem = osp.splitext(osp.basename(path))[0]
    first = data[0]
    if not isinstance(first, dict):
        try:
            return OrderedDict({stem: np.stack([np.asarray(x, np.float64).reshape(-1)
                                                for x in data])}), None
        except ValueError as err:
            raise ValueError(f'{path}: per-video score arrays differ in size: {err}') from err
    key = 'pred_logits' if fusion == 'logits' and 'pred_logits' in first else None
    key = key or next((k for k in ('pred_scores', 'pred_score') if k in first), None)
    if key is None:
        raise ValueError(f'{path}: dump entries have no pred_score(s); keys: {sorted(first)}')
    if isinstance(first[key], dict):
        heads = list(first[key])
        streams = OrderedDict(
            (stem if h == 'item' else h, np.stack([_np(d[key][h]).reshape(-1) for d in data]))
            for h in heads)
    else:
        streams = OrderedDict({stem: np.stack([_np(d[key]).reshape(-1) for d in data])})
    labels = None
    lab_key = next((k for k in ('gt_labels', 'gt_label') if k in first), None)
    if lab_key is not None:
        labs = [d[lab_key]['item'] if isinstance(d[lab_key], dict) else d[lab_key]
                for d in data]
        labels = np.array([int(_np(v).reshape(-1)[0]) for v in labs])
    return streams, labels


def load_labels(path: str, labels_map: str = None) -> np.ndarray:
    """Labels ``[N]`` from a list file (last column) or an SSv2 json (with ``labels_map``).

    Raises:
        ValueError: a line whose last column is not an integer (names file and line).
    """
    if path.endswith('.json'):
        if not labels_map:
            raise ValueError(f'{path}: a json annotation file needs --labels-map labels.json')
        from mmdistill_plugin.datasets.something_something import template_key
        with open(labels_map) as f:
            mapping = {k: int(v) for k, v in json.load(f).items()}
        with open(path) as f:
            return np.array([mapping[template_key(e['template'])] for e in json.load(f)])
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            parts = line.split()
            if not parts:
                continue
            try:
                out.append(int(parts[-1]))
            except ValueError:
                raise ValueError(f'{path}:{n}: the last column is not an integer label: '
                                 f'{line.strip()!r}') from None
    return np.array(out)


def _softmax(x):
    e = np.exp(x - x.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


def fuse(paths, labels_file=None, labels_map=None, fusion='scores', topk=(1, 5), names=None):
    """``(metrics OrderedDict, stream names)`` as :func:`ensemble_accuracies` gives them."""
    from mmdistill_plugin.evaluation.multi_modality_metric import ensemble_accuracies
    streams, labels = OrderedDict(), None
    for p in paths:
        s, lab = load_scores(p, fusion)
        for k, v in s.items():
            if k in streams:
                k = f'{k}_{len(streams)}'
            streams[k] = v
        labels = lab if labels is None else labels
    if labels_file:
        labels = load_labels(labels_file, labels_map)
    if labels is None:
        raise ValueError('no labels: give --labels (the score files hold none)')
    if names:
        if len(names) != len(streams):
            raise ValueError(f'--names gives {len(names)} names for {len(streams)} streams '
                             f'{list(streams)}')
        streams = OrderedDict(zip(names, streams.values()))
    for k, v in streams.items():
        if len(v) != len(labels):
            raise ValueError(f'stream {k!r} has {len(v)} videos, the labels {len(labels)}')
    if fusion == 'prob':
        streams = OrderedDict((k, _softmax(v)) for k, v in streams.items())
    num_classes = next(iter(streams.values())).shape[1]
    topk = tuple(k for k in topk if k <= num_classes)
    return ensemble_accuracies(streams, labels, topk), list(streams), topk


def main(argv=None):
    args = parse_args(argv)
    metrics, names, topk = fuse(args.scores, args.labels, args.labels_map, args.fusion,
                                args.topk, args.names)
    cols = [f'top{k}' for k in topk] + ['mean_class_accuracy']
    print(f'{"stream":<12}' + ''.join(f'{c:>21}' for c in cols))
    for n in names + ['fused']:
        label = 'Σ (sum)' if n == 'fused' else n
        print(f'{label:<12}' + ''.join(f'{100 * metrics[f"{n}_{c}"]:>21.2f}' for c in cols))
    print(f'{"Φ (oracle)":<12}{100 * metrics["oracle_top1"]:>21.2f}' + ' ' * 21 * (len(topk) - 1)
          + f'{100 * metrics["oracle_mean_class_accuracy"]:>21.2f}')
    return metrics


if __name__ == '__main__':
    main()
