# Copyright (c) mmdistill contributors.
"""A sampler that tells a teacher-cache dataset the epoch (one stored view per epoch)."""
from typing import Iterator

from mmengine.dataset import DefaultSampler

from mmaction.registry import DATA_SAMPLERS


@DATA_SAMPLERS.register_module()
class ViewEpochSampler(DefaultSampler):
    """mmengine's ``DefaultSampler`` yielding ``(index, epoch)`` keys, so a
    ``TeacherCacheDataset`` / ``FeatureCacheDataset`` with ``view_sampling='per_epoch'`` or
    ``'shuffle'`` replays that epoch's stored view (:func:`~mmdistill_plugin.utils.
    cache_codecs.choose_view`). mmengine's ``DistSamplerSeedHook`` sets the epoch (also on
    resume). Arguments as ``DefaultSampler`` (``shuffle``, ``seed``, ``round_up``)."""

    def __iter__(self) -> Iterator:
        epoch = int(self.epoch)
        return ((int(i), epoch) for i in super().__iter__())
