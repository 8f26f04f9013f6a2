# Copyright (c) mmdistill contributors.
from . import transforms  # noqa: F401
from .epic_kitchens import EpicKitchens100Dataset
from .feature_cache_dataset import FeatureCacheDataset
from .mixed_pairs import MixedPairDataset
from .multimodal_frame_list import MultimodalFrameListDataset
from .something_something import SomethingSomethingV2Dataset
from .teacher_cache_dataset import TeacherCacheDataset
from .transforms import *  # noqa: F401,F403
from .view_epoch_sampler import ViewEpochSampler

__all__ = ['EpicKitchens100Dataset', 'SomethingSomethingV2Dataset', 'MultimodalFrameListDataset',
           'TeacherCacheDataset', 'FeatureCacheDataset', 'ViewEpochSampler',
           'MixedPairDataset']
__all__ += transforms.__all__
