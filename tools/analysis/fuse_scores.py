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

Streams are aligned by sample id (``narration_id`` / ``video_id`` / ``filename`` /
``frame_dir`` / ``sample_idx`` of the dumps): dumps of the same videos in different orders are
reordered to the first one's order; dumps whose ids differ (other videos), whose labels disagree,
with a duplicate id, of another class count, or a file given twice are refused with the reason.
Dumps without ids must list the same videos in the same order: their labels must agree.

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


ID_KEYS = ('narration_id', 'video_id', 'filename', 'frame_dir', 'sample_idx')


def load_scores(path: str, fusion: str = 'scores', with_ids: bool = False):
    """``(OrderedDict(stream -> [N, C]), labels [N] or None)`` from one pickle file (and, with
    ``with_ids``, the samples' ids ``[N]`` or None: the first of :data:`ID_KEYS` every entry of
    a dump has).

    Raises:
        ValueError: an unknown layout (names the file and what it found).
    """
    streams, labels = _load_scores(path, fusion)
    if not with_ids:
        return streams, labels
    with open(path, 'rb') as f:
        data = pickle.load(f)
    ids = None
    if isinstance(data[0], dict):
        key = next((k for k in ID_KEYS if all(d.get(k) is not None for d in data)), None)
        if key is not None:
            ids = [f'{key}={d[key]!r}' if key != 'sample_idx' else f'sample_idx={d[key]}'
                   for d in data]
    return streams, labels, ids


def _load_scores(path: str, fusion: str = 'scores'):
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


def _align(path, ids, ref_path, ref_ids):
    """Positions of ``ref_ids`` in ``ids`` (the order of the reference dump)."""
    pos = {k: i for i, k in enumerate(ids)}
    missing = [k for k in ref_ids if k not in pos]
    extra = sorted(set(ids) - set(ref_ids))
    if missing or extra:
        raise ValueError(f'{path} and {ref_path} hold different samples: {len(missing)} of '
                         f'{ref_path} missing (first {missing[:3]}), {len(extra)} others (first '
                         f'{extra[:3]}); fuse dumps of the same test set')
    return np.array([pos[k] for k in ref_ids])


def fuse(paths, labels_file=None, labels_map=None, fusion='scores', topk=(1, 5), names=None):
    """``(metrics OrderedDict, stream names)`` as :func:`ensemble_accuracies` gives them.

    Raises:
        ValueError: a file given twice, a duplicate sample id in a dump, dumps of different
            samples, labels that disagree between dumps (or with ``--labels``), streams of
            different class counts, labels outside the class range.
    """
    from mmdistill_plugin.evaluation.multi_modality_metric import ensemble_accuracies
    real = [osp.realpath(p) for p in paths]
    twice = sorted({p for p in paths if real.count(osp.realpath(p)) > 1})
    if twice:
        raise ValueError(f'score file(s) given twice: {twice} (one file per stream)')
    loaded = [(p, ) + tuple(load_scores(p, fusion, with_ids=True)) for p in paths]
    with_ids = [p for p, _, _, ids in loaded if ids is not None]
    if with_ids and len(with_ids) < len(loaded):
        raise ValueError(f'{[p for p, _, _, ids in loaded if ids is None]} hold no sample ids '
                         f'({", ".join(ID_KEYS)}) while {with_ids} do: they cannot be aligned')
    streams, labels, label_src = OrderedDict(), None, None
    ref_ids, ref_path = None, None
    for p, s, lab, ids in loaded:
        if ids is not None:
            if len(set(ids)) < len(ids):
                dup = sorted({k for k in ids if ids.count(k) > 1})
                raise ValueError(f'{p}: sample {dup[0]} appears more than once '
                                 f'({len(dup)} duplicated id(s))')
            if ref_ids is None:
                ref_ids, ref_path = ids, p
            else:
                order = _align(p, ids, ref_path, ref_ids)
                s = OrderedDict((k, v[order]) for k, v in s.items())
                lab = None if lab is None else lab[order]
        for k, v in s.items():
            if k in streams:
                k = f'{k}_{len(streams)}'
            streams[k] = v
        if lab is not None:
            if labels is None:
                labels, label_src = lab, p
            elif len(lab) != len(labels) or not np.array_equal(lab, labels):
                n = min(len(lab), len(labels))
                i = int(np.argmax(lab[:n] != labels[:n])) if (lab[:n] != labels[:n]).any() \
                    else n
                who = ref_ids[i] if ref_ids is not None and i < len(ref_ids) else f'index {i}'
                raise ValueError(f'labels of {p} and {label_src} disagree at {who}: '
                                 f'{lab[i] if i < len(lab) else "none"} vs '
                                 f'{labels[i] if i < len(labels) else "none"} (other videos, or '
                                 f'another order without ids to align them)')
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
    counts = {k: v.shape[1] for k, v in streams.items()}
    if len(set(counts.values())) > 1:
        raise ValueError(f'streams have different class counts {counts}: scores of different '
                         f'label sets cannot be summed')
    num_classes = next(iter(counts.values()))
    if len(labels) and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f'labels range over [{labels.min()}, {labels.max()}] but the streams '
                         f'have {num_classes} classes')
    if fusion == 'prob':
        streams = OrderedDict((k, _softmax(v)) for k, v in streams.items())
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
