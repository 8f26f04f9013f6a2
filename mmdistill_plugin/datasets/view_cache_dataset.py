# Copyright (c) mmdistill contributors.
"""Base of the datasets that serve one of K cached views per sample (teacher logits, tokens)."""
import copy

from mmengine.dataset import BaseDataset

from mmaction.registry import DATASETS
from ..utils.cache_codecs import choose_view
from ..utils.teacher_cache import (TeacherCacheReader, check_stamps, code_fingerprint,
                                   dataset_fingerprint, pipeline_fingerprint, sample_ids)
from .sample_errors import name_sample_error, sample_info, sample_prefix
from .transforms.view import insert_view_frame_indices


class ViewCacheDataset:
    """Wrap a training set and a cache of K views per sample (``tools/cache_teacher.py`` or
    ``tools/extract_features.py``): the wrapped set is built with the view recorder
    (``ViewFrameIndices``) in its pipeline, the cache's pipeline stamp is checked, and
    :meth:`prepare_data` picks one stored view per sample and epoch (numpy's global RNG, seeded by
    mmengine per worker). Subclasses turn ``(info, stored view, arrays)`` into a packed sample;
    errors name the sample, as the wrapped dataset does.

    Args:
        dataset (dict): the training set's config.
        cache (str): the cache directory.
        view_sampling (str): which stored view a sample replays: ``'random'`` (default, drawn
            each time), ``'per_epoch'`` (view ``epoch mod K``, as FKD) or ``'shuffle'`` (each
            sample's K views in a fixed random order, one per epoch); the last two need
            ``train_dataloader.sampler=dict(type='ViewEpochSampler')``
            (:mod:`~mmdistill_plugin.utils.cache_codecs`).
        seed (int): seed of the ``'shuffle'`` orders.

    Raises:
        StaleTeacherCacheError: the cache was written for another pipeline, annotation content,
            sample order or teacher-side code (the message lists the differences and the first
            sample id that moved).
        FileNotFoundError: ``cache`` is not a cache directory.
        NonFiniteCacheError / RuntimeError (per sample, named): NaN / inf values in a shard,
            a torn shard, a row of another sample.
    """

    #: the HDF5 group the subclass reads (``'logits'`` or ``'tokens'``)
    group = 'logits'
    #: the wrapped set's sample ids in order (checked against each row's stored id)
    _ids = None
    #: defaults of ``__init__``'s arguments (wrappers built without ``__init__`` keep working)
    view_sampling, seed = 'random', 0

    def __init__(self, dataset: dict, cache: str, view_sampling: str = 'random',
                 seed: int = 0) -> None:
        choose_view(view_sampling, 0, 0, 1)  # refuses an unknown mode now, not in a worker
        self.view_sampling, self.seed = view_sampling, int(seed)
        cfg = copy.deepcopy(dict(dataset))
        cfg['pipeline'] = insert_view_frame_indices(cfg['pipeline'])
        self.dataset: BaseDataset = DATASETS.build(cfg)
        self.cache = cache
        self.reader = TeacherCacheReader(cache, group=self.group)
        self._ids = sample_ids(self.dataset)
        check_stamps(cache, dict(pipeline=pipeline_fingerprint(cfg),
                                 dataset=dataset_fingerprint(cfg, self.dataset, self._ids),
                                 code=code_fingerprint()),
                     context='this training set', ids=self._ids)

    @property
    def metainfo(self) -> dict:
        return copy.deepcopy(self.dataset.metainfo)

    def full_init(self) -> None:
        self.dataset.full_init()

    def __len__(self) -> int:
        return len(self.dataset)

    def get_data_info(self, idx: int) -> dict:
        return self.dataset.get_data_info(idx)

    def pack(self, idx: int, view: int, info: dict, stored: dict, arrays: dict) -> dict:
        """The packed sample of one stored view (``dict(inputs=..., data_samples=...)``)."""
        raise NotImplementedError

    def prepare_data(self, idx: int, view: int = None, epoch: int = None) -> dict:
        """The packed sample of stored view ``view`` of sample ``idx`` (when None: chosen by
        ``view_sampling`` for ``epoch``)."""
        if view is None:
            view = choose_view(self.view_sampling, idx, epoch, self.reader.views, self.seed)
        try:
            check = {} if self._ids is None else dict(sample_id=self._ids[idx])
            stored, arrays = self.reader.get(idx, view, **check)
            return self.pack(idx, view, self.dataset.get_data_info(idx), stored, arrays)
        except Exception as err:  # name the sample, as the wrapped dataset does
            named = name_sample_error(err, sample_prefix(sample_info(self.dataset, idx), idx))
            if named is err:
                raise
            raise named from err

    def __getitem__(self, key) -> dict:
        """``key``: an index, or ``(index, epoch)`` from ``ViewEpochSampler``."""
        if isinstance(key, (tuple, list)):
            return self.prepare_data(int(key[0]), epoch=int(key[1]))
        return self.prepare_data(key)
