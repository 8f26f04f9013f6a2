from .multi_head_acc_metric import MultiHeadAccMetric, action_topk_accuracy

__all__ = ['MultiHeadAccMetric', 'action_topk_accuracy']
from .epe_metric import EPEMetric  # noqa: E402,F401
