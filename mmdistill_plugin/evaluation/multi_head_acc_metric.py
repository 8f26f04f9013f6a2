"""Top-k accuracy for single- and multi-output recognizers (SSv2 top-1/5; EPIC verb/noun/action)."""
from collections import OrderedDict
from typing import Optional, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric

from mmaction.evaluation.functional import top_k_accuracy
from mmaction.registry import METRICS


def action_topk_accuracy(head_scores: Sequence[np.ndarray], head_labels: Sequence[np.ndarray],
                         topk=(1, 5)):
    """Top-k accuracy of actions = tuples of head outputs (EPIC-100: (verb, noun)).

    The score of a tuple is the product of its heads' probabilities (the usual EPIC-100
    action score); an action is right at k when the true tuple is among the k best tuples.
    At k = 1 this equals "every head's argmax is right".

    Args:
        head_scores: per head, ``[N, C_h]`` probabilities.
        head_labels: per head, ``[N]`` integer labels.
    """
    n = head_scores[0].shape[0]
    joint = head_scores[0]
    flat_label = head_labels[0].astype(np.int64)
    for scores, labels in zip(head_scores[1:], head_labels[1:]):
        joint = (joint[:, :, None] * scores[:, None, :]).reshape(n, -1)
        flat_label = flat_label * scores.shape[1] + labels.astype(np.int64)
    return top_k_accuracy(joint, flat_label, topk)


def mean_class_accuracy(scores: np.ndarray, labels: np.ndarray) -> float:
    """Mean over the classes present in ``labels`` of their top-1 recall.

    (MMAction2's function of the same name also averages in a 0 for every class that is only
    predicted, never a label, which lowers the score on small or long-tailed test sets.)
    """
    pred = scores.argmax(axis=1)
    return float(np.mean([(pred[labels == c] == c).mean() for c in np.unique(labels)]))


@METRICS.register_module()
class MultiHeadAccMetric(BaseMetric):
    """Accuracy of every output head, and of the action they form together.

    Reads ``pred_scores.<head>`` (probabilities) and ``gt_labels.<head>`` of each
    ``ActionDataSample``. For a single head named ``item`` (SSv2) it reports ``top1``,
    ``top5`` and ``mean_class_accuracy``; for several (EPIC-100: ``verb``, ``noun``) it
    reports ``<head>_top1``, ``<head>_top5`` and, with ``action=True``, ``action_top1`` and
    ``action_top5`` (an action is right when verb and noun are both right).

    Args:
        heads (Sequence[str], optional): Head names; default: those found in the predictions.
        topk (Sequence[int]): Which top-k accuracies. Defaults to ``(1, 5)``.
        action (bool): Also report the joint action accuracy when there are ≥ 2 heads.
        prefix (str, optional): Metric name prefix. Defaults to None.
    """
    default_prefix = ''

    def __init__(self, heads: Optional[Sequence[str]] = None, topk=(1, 5), action: bool = True,
                 collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        self.heads = tuple(heads) if heads is not None else None
        self.topk = tuple(topk)
        self.action = action

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            pred, gt = ds['pred_scores'], ds['gt_labels']
            heads = self.heads or tuple(k for k in pred.keys())
            self.results.append({h: (pred[h].cpu().numpy(), int(gt[h].reshape(-1)[0]))
                                 for h in heads})

    def compute_metrics(self, results: list) -> dict:
        heads = list(results[0].keys())
        metrics = OrderedDict()
        scores = {h: np.stack([r[h][0] for r in results]) for h in heads}
        labels = {h: np.array([r[h][1] for r in results]) for h in heads}
        for h in heads:
            name = '' if h == 'item' else f'{h}_'
            for k, acc in zip(self.topk, top_k_accuracy(scores[h], labels[h], self.topk)):
                metrics[f'{name}top{k}'] = float(acc)
            if h == 'item':
                metrics['mean_class_accuracy'] = float(
                    mean_class_accuracy(scores[h], labels[h]))
        if self.action and len(heads) > 1:
            accs = action_topk_accuracy([scores[h] for h in heads], [labels[h] for h in heads],
                                        self.topk)
            for k, acc in zip(self.topk, accs):
                metrics[f'action_top{k}'] = float(acc)
        return metrics
