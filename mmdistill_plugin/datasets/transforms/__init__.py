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
from .omnivore import SampleOneModality  # noqa: E402
from .render_boxes import RenderBoxes  # noqa: E402

__all__ += ['RenderBoxes', 'SampleOneModality']
from .depth import LoadDepthFrames  # noqa: E402
from .sampling import (AlignedSample, ExpandConsecutive, RandomChoiceSample,  # noqa: E402
                       WithFrameOffset)
from .segments import FramesToSegments  # noqa: E402

__all__ += ['LoadDepthFrames', 'AlignedSample', 'ExpandConsecutive', 'RandomChoiceSample',
            'WithFrameOffset', 'FramesToSegments']
