# Copyright (c) mmdistill contributors.
from . import transforms  # noqa: F401
from .epic_kitchens import EpicKitchens100Dataset
from .something_something import SomethingSomethingV2Dataset
from .multimodal_frame_list import MultimodalFrameListDataset
from .transforms import *  # noqa: F401,F403

__all__ = ['EpicKitchens100Dataset', 'SomethingSomethingV2Dataset',
           'MultimodalFrameListDataset'] + transforms.__all__
