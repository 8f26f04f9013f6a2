"""Accuracy of every modality network, of their sum (Σ) and of the oracle (Φ) (DMCL Tab. 1)."""
from collections import OrderedDict
from typing import Dict, Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmengine.logging import print_log

from mmaction.evaluation.functional import mean_average_precision, top_k_accuracy
from mmaction.registry import METRICS
from .multi_head_acc_metric import mean_class_accuracy

FUSIONS = ('logits', 'prob')


def fused_scores(scores: Dict[str, np.ndarray]) -> np.ndarray:
    """Σ: the sum of the streams' ``[N, C]`` scores (logits or probabilities, as given).

    Raises:
        ValueError: no streams, or streams of different shapes (names them).
    """
    if not scores:
        raise ValueError('no streams to fuse')
    shapes = {n: s.shape for n, s in scores.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f'streams have different shapes: {shapes}')
    return np.sum(np.stack(list(scores.values())), axis=0)


def oracle_correct(scores: Dict[str, np.ndarray], labels: np.ndarray) -> np.ndarray:
    """Φ per sample: ``[N]`` bool, True when any stream's top-1 is the label."""
    return np.any(np.stack([s.argmax(1) == labels for s in scores.values()]), axis=0)


def per_class_accuracy(correct: np.ndarray, labels: np.ndarray) -> Dict[int, float]:
    """``class -> accuracy`` over the samples of each class present in ``labels``."""
    return {int(c): float(correct[labels == c].mean()) for c in np.unique(labels)}


def ensemble_accuracies(scores: Dict[str, np.ndarray], labels: np.ndarray, topk=(1, ),
                        per_class: bool = False, fused_name: str = 'fused',
                        oracle_name: str = 'oracle') -> 'OrderedDict':
    """Σ, Φ and each stream: ``top{k}`` and ``mean_class_accuracy`` (Φ: top-1 only).

    Keys: ``fused_top1``, ``fused_top5``..., ``fused_mean_class_accuracy``, ``oracle_top1``,
    ``oracle_mean_class_accuracy``, then ``<stream>_top1``... in the order of ``scores``; with
    ``per_class``, ``<stream|fused|oracle>_class<c>_top1`` for every class in ``labels``.

    Args:
        scores: ``stream -> [N, C]`` scores (already logits or probabilities as wanted for Σ).
        labels: ``[N]`` integer labels.
    """
    out = OrderedDict()
    fused = fused_scores(scores)
    streams = [(fused_name, fused)] + list(scores.items())
    oracle = oracle_correct(scores, labels)
    for name, s in streams:
        for k, acc in zip(topk, top_k_accuracy(s, labels, topk)):
            out[f'{name}_top{k}'] = float(acc)
        out[f'{name}_mean_class_accuracy'] = mean_class_accuracy(s, labels)
        if name == fused_name:
            out[f'{oracle_name}_top1'] = float(oracle.mean())
            out[f'{oracle_name}_mean_class_accuracy'] = float(
                np.mean(list(per_class_accuracy(oracle, labels).values())))
    if per_class:
        for name, s in streams + [(oracle_name, None)]:
            correct = oracle if s is None else s.argmax(1) == labels
            for c, acc in per_class_accuracy(correct, labels).items():
                out[f'{name}_class{c}_top1'] = acc
    return out


def _softmax(x: np.ndarray) -> np.ndarray:
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@METRICS.register_module()
class MultiModalityMetric(BaseMetric):
    """Each modality network alone, Σ (sum of the available modalities' predictions) and Φ
    (oracle: right when any modality is right), as DMCL Tab. 1 / MML Tab. 7 report them.

    Reads ``pred_logits.<name>`` (and ``pred_scores.<name>``) of ``MultiModalityNetworks`` and
    ``gt_labels.item``. Σ sums logits (``fusion='logits'``, the DMCL reference code) or
    probabilities (``'prob'``: softmax, sigmoid for ``multi_label``). Any subset of the
    modalities is evaluated by naming it (from the command line:
    ``--cfg-options "test_evaluator.modalities=['rgb','depth']"``).

    Keys (single-label): ``fused_top1`` first (so ``save_best='auto'`` selects checkpoints on
    Σ, the deployable ensemble; DMCL's released code selects on the oracle: set
    ``save_best='oracle_top1'``), ``fused_top5``..., ``fused_mean_class_accuracy``,
    ``oracle_top1``, ``oracle_mean_class_accuracy``, then ``<name>_top1``... per modality;
    with ``per_class=True`` also ``<name>_class<c>_top1`` (and a table in the log).
    Multi-label (Charades): ``fused_mAP`` and ``<name>_mAP`` (no oracle).

    Args:
        modalities (Sequence[str], optional): Streams to evaluate and fuse; default all.
        fusion (str): ``'logits'`` or ``'prob'``.
        multi_label (bool): mAP over multi-hot labels.
        topk (Sequence[int]): Defaults to ``(1, 5)`` (top-5 dropped when there are < 5 classes).
        per_class (bool): Also per-class top-1 of every stream, Σ and Φ.

    Raises:
        ValueError: unknown ``fusion``; (at compute time) a requested modality without
            predictions (names the available ones).
    """
    default_prefix = ''

    def __init__(self, modalities: Optional[Sequence[str]] = None, fusion: str = 'logits',
                 multi_label: bool = False, topk: Sequence[int] = (1, 5),
                 per_class: bool = False, collect_device: str = 'cpu',
                 prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if fusion not in FUSIONS:
            raise ValueError(f'fusion must be one of {FUSIONS}, got {fusion!r}')
        self.modalities = list(modalities) if modalities is not None else None
        self.fusion = fusion
        self.multi_label = multi_label
        self.topk = tuple(topk)
        self.per_class = per_class

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            src = ds.get('pred_logits', ds['pred_scores'])
            logits = {k: v.detach().cpu().float().numpy() for k, v in src.items()}
            self.results.append(dict(
                logits=logits, has_logits='pred_logits' in ds,
                label=ds['gt_labels']['item'].reshape(-1).cpu().numpy().astype(np.int64)))

    def _streams(self, results) -> Dict[str, np.ndarray]:
        have = list(results[0]['logits'])
        names = self.modalities or have
        missing = [n for n in names if n not in have]
        if missing:
            raise ValueError(f'MultiModalityMetric: no predictions for {missing}; the model '
                             f'predicts {have}')
        scores = {n: np.stack([r['logits'][n] for r in results]) for n in names}
        if self.fusion == 'prob' and results[0]['has_logits']:
            scores = {n: (1 / (1 + np.exp(-s)) if self.multi_label else _softmax(s))
                      for n, s in scores.items()}
        return scores

    def compute_metrics(self, results: list) -> dict:
        scores = self._streams(results)
        num_classes = next(iter(scores.values())).shape[1]
        if self.multi_label:
            onehot = np.zeros((len(results), num_classes), np.int64)
            for i, r in enumerate(results):
                onehot[i, r['label']] = 1
            out = OrderedDict()
            for name, s in [('fused', fused_scores(scores))] + list(scores.items()):
                out[f'{name}_mAP'] = float(mean_average_precision(list(s), list(onehot)))
            return out
        labels = np.array([r['label'][0] for r in results])
        topk = tuple(k for k in self.topk if k <= num_classes) or (1, )
        out = ensemble_accuracies(scores, labels, topk, self.per_class)
        if self.per_class:
            names = ['fused', 'oracle'] + list(scores)
            lines = ['class  ' + '  '.join(f'{n:>8}' for n in names)]
            for c in np.unique(labels):
                lines.append(f'{c:>5}  ' + '  '.join(
                    f'{100 * out[f"{n}_class{c}_top1"]:8.2f}' for n in names))
            print_log('per-class top-1 (%):\n' + '\n'.join(lines), logger='current')
        return out
