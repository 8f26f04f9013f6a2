# Copyright (c) mmdistill contributors.
from .karmma_fusion import KARMMAFusionBlock
from .transformer_layer import DropPath, PreNormTransformerLayer

__all__ = ['KARMMAFusionBlock', 'PreNormTransformerLayer', 'DropPath']
