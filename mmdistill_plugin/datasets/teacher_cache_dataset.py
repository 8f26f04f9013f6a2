# Copyright (c) mmdistill contributors.
"""A training set that replays the views of a teacher-output cache, with the teacher's logits."""
from mmaction.registry import DATASETS
from .mixed_pairs import replay_mix
from .transforms.view import REPLAY_KEY
from .view_cache_dataset import ViewCacheDataset


@DATASETS.register_module()
class TeacherCacheDataset(ViewCacheDataset):
    """Wrap a training set: each sample replays one of the K views stored in ``cache``.

    Per sample and epoch one stored view is picked (``view_sampling``), the pipeline replays its
    frames, crop, flip and colour jitter (see :mod:`mmdistill_plugin.datasets.transforms.view`),
    and the packed data sample carries the teacher's logits of that view
    (``data_sample.teacher_logits``, ``LabelData(head -> [C])``). Student-only transforms
    (``ModalityDropout``) still draw afresh on top. A view cached from a ``MixedPairDataset``
    is replayed with its partner's view and λ (:mod:`.mixed_pairs`): the same mixed input as
    the teacher saw, soft labels for the student. ``DistillRecognizer(teacher_cache=...)`` then
    distils from these logits without a teacher.

    Args:
        dataset (dict): the training set's config (its pipeline is the one the cache was
            written with, plus any student-only transforms).
        cache (str): the cache directory written by ``tools/cache_teacher.py`` (any storage:
            fp16, top-k or 8-bit logits are decoded to float logits).
        view_sampling (str): ``'random'`` (default), ``'per_epoch'`` or ``'shuffle'``: which
            stored view an epoch replays (a cache of K >= max_epochs views with ``'per_epoch'``
            or ``'shuffle'`` gives a fresh view every epoch, as online training;
            :mod:`~mmdistill_plugin.utils.cache_codecs`).
        seed (int): seed of the ``'shuffle'`` orders.

    Raises:
        StaleTeacherCacheError: the cache was written for another pipeline, annotation file or
            dataset size (the message lists the differences).
        FileNotFoundError: ``cache`` is not a cache directory.
    """

    group = 'logits'

    def pack(self, idx, view, info, stored, arrays):
        draws = dict(stored['draws'])
        mix = draws.pop('mix', None)  # written from a MixedPairDataset: replay the pair
        info[REPLAY_KEY] = draws
        info['teacher_logits'] = arrays
        info['cache_view'] = view
        packed = self.dataset.pipeline(info)
        return packed if mix is None else replay_mix(self.dataset, packed, mix)
