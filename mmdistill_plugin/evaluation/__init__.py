from .multi_head_acc_metric import MultiHeadAccMetric, action_topk_accuracy

__all__ = ['MultiHeadAccMetric', 'action_topk_accuracy']
