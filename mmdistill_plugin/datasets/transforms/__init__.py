# Copyright (c) mmdistill contributors.
from .formatting import PackMultimodalInputs
from .loading import LoadAudioLogMel, LoadBoxes, LoadFlowFrames, LoadRGBFrames
from .modality import MissingModalities, ModalityDropout
from .spatial import (MultimodalCenterCrop, MultimodalColorJitter, MultimodalFlip,
                      MultimodalRandomResizedCrop, MultimodalResize)

__all__ = [
    'LoadRGBFrames', 'LoadFlowFrames', 'LoadAudioLogMel', 'LoadBoxes', 'MultimodalResize',
    'MultimodalRandomResizedCrop', 'MultimodalCenterCrop', 'MultimodalFlip',
    'MultimodalColorJitter', 'ModalityDropout', 'MissingModalities', 'PackMultimodalInputs'
]
