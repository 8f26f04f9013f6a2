# Copyright (c) mmdistill contributors.
from .depth import LoadDepthFrames
from .formatting import PackMultimodalInputs
from .loading import LoadAudioLogMel, LoadBoxes, LoadFlowFrames, LoadRGBFrames
from .modality import MissingModalities, ModalityDropout
from .omnivore import SampleOneModality
from .render_boxes import RenderBoxes
from .sampling import (AlignedSample, ExpandConsecutive, RandomChoiceSample, SeededUniformSample,
                       WithFrameOffset)
from .segments import FramesToSegments
from .spatial import (MultimodalCenterCrop, MultimodalColorJitter, MultimodalFlip,
                      MultimodalRandomResizedCrop, MultimodalResize, MultimodalShiftedCenterCrop)
from .view import ViewFrameIndices

__all__ = [
    'LoadRGBFrames', 'LoadFlowFrames', 'LoadAudioLogMel', 'LoadBoxes', 'LoadDepthFrames',
    'MultimodalResize', 'MultimodalRandomResizedCrop', 'MultimodalCenterCrop', 'MultimodalFlip',
    'MultimodalShiftedCenterCrop', 'SeededUniformSample',
    'MultimodalColorJitter', 'ModalityDropout', 'MissingModalities', 'PackMultimodalInputs',
    'RenderBoxes', 'SampleOneModality', 'AlignedSample', 'ExpandConsecutive',
    'RandomChoiceSample', 'WithFrameOffset', 'FramesToSegments', 'ViewFrameIndices'
]
