from .info_nce import InfoNCELoss
from .kl_divergence import KLDivergence
from .logit_mse import LogitMSE

__all__ = ['KLDivergence', 'LogitMSE', 'InfoNCELoss']
from .multiple_choice_learning import (CMCLLoss, DMCLLoss, IndependentMCLLoss,  # noqa: E402
                                       RandomTeacherMCLLoss, SMCLLoss)
from .mutual_learning import MutualLearningLoss  # noqa: E402

__all__ += ['IndependentMCLLoss', 'DMCLLoss', 'SMCLLoss', 'CMCLLoss', 'RandomTeacherMCLLoss',
            'MutualLearningLoss']
