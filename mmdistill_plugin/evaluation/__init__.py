from .multi_head_acc_metric import MultiHeadAccMetric, action_topk_accuracy

__all__ = ['MultiHeadAccMetric', 'action_topk_accuracy']
from .epe_metric import EPEMetric  # noqa: E402,F401
from .multi_modality_metric import (MultiModalityMetric, ensemble_accuracies,  # noqa: E402
                                    fused_scores, oracle_correct)

__all__ += ['MultiModalityMetric', 'ensemble_accuracies', 'fused_scores', 'oracle_correct']
