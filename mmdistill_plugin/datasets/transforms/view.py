# Copyright (c) mmdistill contributors.
"""Replayable views: every random draw of a training pipeline is recorded and can be replayed.

A *view* of a sample is what the random transforms drew for it: the frame indices, the crop box,
the flip, the colour-jitter factors. Each random transform of this plugin asks :func:`draw` for
its value: the value is drawn (numpy's global RNG, as before) and recorded in
``results['view'][name]``, or, when ``results['replay_view']`` is set (by
:class:`~mmdistill_plugin.datasets.TeacherCacheDataset`), taken from there. Replaying a view
therefore gives the same pixels, boxes and frames as the pass that recorded it, which is what a
teacher-output cache needs (FKD, Shen & Xing, ECCV 2022, stores crop coordinates with each soft
label for the same reason).

Values are plain JSON types (lists of ints/floats, bools) so a view is stored as a JSON string.
"""
from typing import Any, Callable, Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction.registry import TRANSFORMS

VIEW_KEY = 'view'
REPLAY_KEY = 'replay_view'

#: MMAction2 / plugin transforms that write ``results['frame_inds']``.
FRAME_SAMPLERS = ('SampleFrames', 'UniformSample', 'UniformSampleFrames', 'DenseSampleFrames',
                  'SampleAVAFrames', 'SampleMixedFrames', 'SeededUniformSample')


def draw(results: dict, name: str, sample: Callable[[], Any]) -> Any:
    """The value of the draw ``name`` for this sample, recorded in ``results['view']``.

    Args:
        results: the pipeline's results dict.
        name: the draw's name, unique within a pipeline (e.g. ``'crop_bbox'``).
        sample: draws a fresh value (called only when nothing is replayed).

    Raises:
        KeyError: a replayed view without ``name`` (the cache was written with another
            pipeline), naming the draw and the sample.
        ValueError: two transforms of one pipeline record the same ``name``.
    """
    replay = results.get(REPLAY_KEY)
    if replay is not None:
        if name not in replay:
            raise KeyError(f'the replayed view of sample {results.get("sample_idx")} has no '
                           f'{name!r} draw (it has {sorted(replay)}): the cache was written '
                           'with another pipeline; write it again with tools/cache_teacher.py')
        value = replay[name]
    else:
        value = sample()
    view = results.setdefault(VIEW_KEY, {})
    if name in view:
        raise ValueError(f'two transforms of the pipeline record the draw {name!r}; a view '
                         'needs unique names')
    view[name] = value
    return value


@TRANSFORMS.register_module()
class ViewFrameIndices(BaseTransform):
    """Record (or replay) ``results['frame_inds']`` as the view's ``frame_inds`` draw.

    Placed right after the frame sampler (``SampleFrames`` ...); the teacher cache inserts it
    there itself (:func:`insert_view_frame_indices`). Other modalities' indices are derived from
    ``frame_inds`` by their loaders (e.g. flow at ``rgb_to_flow_ratio``), so they replay too.
    """

    def transform(self, results: dict) -> dict:
        inds = np.asarray(results['frame_inds']).astype(np.int64)
        value = draw(results, 'frame_inds', lambda: inds.reshape(-1).tolist())
        results['frame_inds'] = np.asarray(value, dtype=np.int64).reshape(inds.shape) \
            if len(value) == inds.size else np.asarray(value, dtype=np.int64)
        return results


def insert_view_frame_indices(pipeline: list) -> list:
    """A copy of ``pipeline`` (config dicts) with :class:`ViewFrameIndices` after the sampler.

    Raises:
        ValueError: when no transform of ``pipeline`` is a known frame sampler
            (:data:`FRAME_SAMPLERS`), listing the pipeline's transforms.
    """
    out = [dict(t) for t in pipeline if t.get('type') != 'ViewFrameIndices']
    for i, t in enumerate(out):
        if t.get('type') in FRAME_SAMPLERS:
            return out[:i + 1] + [dict(type='ViewFrameIndices')] + out[i + 1:]
    raise ValueError('no frame sampler in the pipeline (one of '
                     f'{FRAME_SAMPLERS}); got {[t.get("type") for t in pipeline]}')


def view_of(results: dict) -> Optional[dict]:
    """The recorded view of a results dict (None when nothing was drawn)."""
    return results.get(VIEW_KEY)
