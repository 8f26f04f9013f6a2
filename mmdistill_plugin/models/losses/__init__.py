from .info_nce import InfoNCELoss
from .kl_divergence import KLDivergence
from .logit_mse import LogitMSE

__all__ = ['KLDivergence', 'LogitMSE', 'InfoNCELoss']
