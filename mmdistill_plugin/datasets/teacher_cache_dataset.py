# Copyright (c) mmdistill contributors.
"""A training set that replays the views of a teacher-output cache, with the teacher's logits."""
import copy

import numpy as np
from mmengine.dataset import BaseDataset

from mmaction.registry import DATASETS
from .sample_errors import name_sample_error, sample_info, sample_prefix
from ..utils.teacher_cache import TeacherCacheReader, check_stamp, pipeline_fingerprint
from .transforms.view import REPLAY_KEY, insert_view_frame_indices


@DATASETS.register_module()
class TeacherCacheDataset:
    """Wrap a training set: each sample replays one of the K views stored in ``cache``.

    Per sample and epoch one stored view is picked uniformly (numpy's global RNG, seeded by
    mmengine per worker), the pipeline replays exactly its frames, crop, flip and colour jitter
    (see :mod:`mmdistill_plugin.datasets.transforms.view`), and the packed data sample carries
    the teacher's logits of that view (``data_sample.teacher_logits``, ``LabelData(head ->
    [C])``). Student-only transforms (``ModalityDropout``) still draw afresh on top.
    ``DistillRecognizer(teacher_cache=...)`` then distils from these logits without a teacher.

    Args:
        dataset (dict): the training set's config (its pipeline is the one the cache was
            written with, plus any student-only transforms).
        cache (str): the cache directory written by ``tools/cache_teacher.py``.

    Raises:
        StaleTeacherCacheError: the cache was written for another pipeline, annotation file or
            dataset size (the message lists the differences).
        FileNotFoundError: ``cache`` is not a cache directory.
    """

    def __init__(self, dataset: dict, cache: str) -> None:
        cfg = copy.deepcopy(dict(dataset))
        cfg['pipeline'] = insert_view_frame_indices(cfg['pipeline'])
        self.dataset: BaseDataset = DATASETS.build(cfg)
        self.cache = cache
        self.reader = TeacherCacheReader(cache)
        check_stamp(cache, 'pipeline', pipeline_fingerprint(cfg, len(self.dataset)))

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def prepare_data(self, idx: int, view: int = None) -> dict:
        """The packed sample of stored view ``view`` (random when None) of sample ``idx``."""
        if view is None:
            view = int(np.random.randint(self.reader.views))
        try:
            stored, logits = self.reader.get(idx, view)
            info = self.dataset.get_data_info(idx)
            info[REPLAY_KEY] = stored['draws']
            info['teacher_logits'] = logits
            info['cache_view'] = view
            return self.dataset.pipeline(info)
        except Exception as err:  # name the sample, as the wrapped dataset does
            named = name_sample_error(err, sample_prefix(sample_info(self.dataset, idx), idx))
            if named is err:
                raise
            raise named from err

    def __getitem__(self, idx: int) -> dict:
        return self.prepare_data(idx)
