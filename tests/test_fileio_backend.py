"""Datasets and loaders read every file through ``mmengine.fileio`` with ``backend_args``:
a counting backend registered here sees each annotation / frame / flow / wav / video access,
and the samples equal those of the default (local) backend."""
import os.path as osp
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from mmengine.fileio import LocalBackend, register_backend
from mmengine.registry import init_default_scope

import mmdistill_plugin  # noqa: F401
from mmaction.registry import DATASETS

REPO = Path(__file__).resolve().parents[1]
SEEN = Counter()


@register_backend('counting_test', force=True)
class CountingBackend(LocalBackend):
    """Local disk, counting (method, file extension) of every access."""

    def _count(self, method, path):
        SEEN[method, osp.splitext(str(path))[1] or 'dir'] += 1

    def get(self, filepath):
        self._count('get', filepath)
        return super().get(filepath)

    def get_text(self, filepath, encoding='utf-8'):
        self._count('get_text', filepath)
        return super().get_text(filepath, encoding)

    def exists(self, filepath):
        self._count('exists', filepath)
        return super().exists(filepath)

    def isdir(self, filepath):
        self._count('isdir', filepath)
        return super().isdir(filepath)

    def list_dir_or_file(self, dir_path, *args, **kwargs):
        self._count('list_dir_or_file', dir_path)
        return super().list_dir_or_file(dir_path, *args, **kwargs)

    def get_local_path(self, filepath):
        self._count('get_local_path', filepath)
        return super().get_local_path(filepath)


COUNTING = dict(backend='counting_test')


@pytest.fixture(scope='module')
def toy(toy_data):
    """The session's tiny toy data (seed 0), read-only."""
    return toy_data


def _epic(root, backend_args):
    ann = root / 'epic' / 'annotations'
    load = [dict(type='LoadRGBFrames', backend_args=backend_args),
            dict(type='LoadFlowFrames', backend_args=backend_args),
            dict(type='LoadAudioLogMel', num_frames=64, n_mels=32, backend_args=backend_args)]
    return DATASETS.build(dict(
        type='EpicKitchens100Dataset', ann_file=str(ann / 'EPIC_100_validation.csv'),
        verb_classes_file=str(ann / 'EPIC_100_verb_classes.csv'),
        noun_classes_file=str(ann / 'EPIC_100_noun_classes.csv'),
        data_prefix=dict(rgb=str(root / 'epic'), flow=str(root / 'epic'),
                         audio=str(root / 'epic')),
        backend_args=backend_args, test_mode=True,
        pipeline=[dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1,
                       test_mode=True), *load]))


def _sthv2(root, backend_args, rgb_source='video'):
    ann = root / 'sthv2' / 'annotations'
    return DATASETS.build(dict(
        type='SomethingSomethingV2Dataset', ann_file=str(ann / 'validation.json'),
        labels_file=str(ann / 'labels.json'), boxes_file=str(ann / 'annotations.json'),
        data_prefix=dict(video=str(root / 'sthv2' / 'videos'),
                         flow=str(root / 'sthv2' / 'flow')),
        modalities=('rgb', 'flow', 'boxes'), rgb_source=rgb_source, video_ext='.mp4',
        backend_args=backend_args, test_mode=True,
        pipeline=[dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
                  dict(type='LoadRGBFrames', backend_args=backend_args),
                  dict(type='LoadFlowFrames', backend_args=backend_args),
                  dict(type='LoadBoxes')]))


def _same(a, b):
    for key in ('rgb', 'flow', 'audio', 'boxes'):
        if key in a:
            np.testing.assert_array_equal(a[key], b[key])


def test_epic_through_backend(toy):
    init_default_scope('mmaction')
    SEEN.clear()
    ds = _epic(toy, COUNTING)
    assert SEEN['get_text', '.csv'] == 3  # validation + verb + noun class files
    got = ds[0]
    assert SEEN['get', '.jpg'] >= 4 + 2 * 2  # rgb frames, u and v flow
    assert SEEN['get_local_path', '.wav'] == 1
    assert SEEN['exists', '.jpg'] >= 1  # flow frame count probes
    _same(got, _epic(toy, None)[0])
    assert got['audio'].shape == (64, 32) and got['modality_present'] == dict(
        rgb=True, flow=True, audio=True)


def test_sthv2_through_backend(toy):
    init_default_scope('mmaction')
    SEEN.clear()
    ds = _sthv2(toy, COUNTING)
    assert SEEN['get_text', '.json'] == 3  # labels, boxes, split
    got = ds[0]
    assert SEEN['get_local_path', '.mp4'] == 2  # frame count probe + frame decoding
    assert SEEN['get', '.jpg'] >= 2  # flow x / y
    _same(got, _sthv2(toy, None)[0])


def test_loaders_alone_use_their_backend_args(toy):
    """Dataset on the default backend, loaders on the counting one: only media are counted;
    an unregistered backend name fails in the loader."""
    init_default_scope('mmaction')
    ds = _epic(toy, None)
    for t in ds.pipeline.transforms[1:]:
        t.backend_args = COUNTING
    SEEN.clear()
    ds[1]
    assert SEEN['get_local_path', '.wav'] == 1 and SEEN['get', '.jpg'] >= 8
    assert not any(ext == '.csv' for _, ext in SEEN)
    ds.pipeline.transforms[-1].backend_args = dict(backend='no_such_backend')
    with pytest.raises(KeyError, match='no_such_backend'):
        ds[1]
