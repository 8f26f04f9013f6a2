"""SomethingSomethingV2Dataset on the real SSv2 / Something-Else files, boxes, full pipeline."""
import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

import mmdistill_plugin  # noqa: F401
from mmaction.registry import DATASETS
from mmdistill_plugin.datasets.something_something import load_box_annotations, template_key

DATA = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'
SE = DATA / 'something_else'
LABELS = DATA / 'something_something_v2' / 'something-something-v2-labels.json'
KNOWN = SE / 'known_labels.csv'

pytestmark = pytest.mark.skipif(not (KNOWN.exists() and LABELS.exists()),
                                reason='SSv2 / Something-Else data not available')


def _known():
    with open(KNOWN, newline='') as f:
        return list(csv.DictReader(f))


def _source_file(src):
    name = src.split(' ')[0]
    if name.startswith('dataset_splits'):
        return SE / name
    return DATA / 'something_something_v2' / name


def _build(ann_file, **kw):
    cfg = dict(type='SomethingSomethingV2Dataset', ann_file=str(ann_file), labels_file=str(LABELS),
               rgb_source='frames', data_prefix=dict(rgb=str(SE / 'videos')),
               boxes_file=str(SE / 'annotations.json'), pipeline=[])
    cfg.update(kw)
    return DATASETS.build(cfg)


def _known_json(tmp_path):
    entries = []
    for row in _known():
        ents = json.load(open(_source_file(row['source'])))
        entries.append(next(e for e in ents if str(e['id']) == row['video_id']))
    f = tmp_path / 'known.json'
    f.write_text(json.dumps(entries))
    return f


def test_template_key():
    assert template_key('[Something] falling like a rock') == 'Something falling like a rock'
    assert template_key('Putting [something] onto [something]') == \
        'Putting something onto something'


def test_known_labels_from_real_splits():
    for row in _known():
        ds = _build(_source_file(row['source']), modalities=('rgb', ), boxes_file=None)
        # find the clip by id without probing the other (absent) videos
        idx = next(i for i in range(len(ds)) if BaseGet(ds, i)['video_id'] == row['video_id'])
        info = ds.get_data_info(idx)
        assert info['label'] == int(row['ssv2_label_index']), row
        assert info['template'] == row['template']
        assert info['start_index'] == 1
        n = len(list((SE / 'videos' / row['video_id']).glob('*.jpg')))
        assert info['total_frames'] == n
        assert info['frame_dir'] == str(SE / 'videos' / row['video_id'])
    assert ds.metainfo['num_classes'] == 174
    assert ds.metainfo['classes'][0] == 'Approaching something with your camera'


def BaseGet(ds, i):
    from mmengine.dataset import BaseDataset
    return BaseDataset.get_data_info(ds, i)


def test_known_json_and_paths(tmp_path):
    ds = _build(_known_json(tmp_path), modalities=('rgb', 'flow', 'boxes'),
                data_prefix=dict(rgb=str(SE / 'videos'), flow='/flow'))
    assert len(ds) == 5
    info = ds.get_data_info(0)  # id 3201: 43 frames, width 426
    assert info['video_id'] == '3201' and info['label'] == 32
    assert info['total_frames'] == 43 and info['frame_size'] == (240, 426)
    assert info['flow_dir'] == '/flow/3201' and info['flow_total_frames'] == 42
    assert info['flow_filename_tmpl'].format('x', 7) == 'x_00007.jpg'
    assert info['boxes_info']['num_objects'] == 1
    vds = _build(_known_json(tmp_path), modalities=('rgb', ), rgb_source='video',
                 data_prefix=dict(video='/vid'), boxes_file=None)
    assert BaseGet(vds, 0)['filename'] == '/vid/3201.webm'
    with pytest.raises(FileNotFoundError, match='/vid/3201.webm'):
        vds.get_data_info(0)


def test_unknown_template_raises(tmp_path):
    f = tmp_path / 'bad.json'
    f.write_text(json.dumps([{'id': '2', 'template': 'Pretending to pick [something] up',
                              'label': 'x', 'placeholders': ['x']},
                             {'id': '777', 'template': 'Juggling [something]', 'label': 'y',
                              'placeholders': ['y']}]))
    with pytest.raises(ValueError) as e:
        _build(f, boxes_file=None, modalities=('rgb', ))
    assert str(f) in str(e.value) and '777' in str(e.value) and 'Juggling' in str(e.value)


def test_box_annotations_real():
    ann = load_box_annotations(str(SE / 'annotations.json'))
    raw = json.load(open(SE / 'annotations.json'))
    assert len(ann) == 13
    fr = raw['151201'][0]
    assert fr['name'] == '151201/0001.jpg'
    b = {lab['gt_annotation']: lab['box2d'] for lab in fr['labels']}
    got = ann['151201']['frames'][1]
    assert got[0] == (0, 1, b['object 0']['x1'], b['object 0']['y1'], b['object 0']['x2'],
                      b['object 0']['y2'])
    assert got[1][:2] == (1, 2)  # hand after the single object
    assert sorted(ann['151201']['frames']) == list(range(1, 24))
    assert ann['4']['num_objects'] == 3


def test_full_pipeline_boxes(tmp_path):
    pipeline = [
        dict(type='SampleFrames', clip_len=8, frame_interval=4, num_clips=1, test_mode=True),
        dict(type='LoadRGBFrames'),
        dict(type='LoadFlowFrames', allow_missing=True),
        dict(type='LoadBoxes', max_boxes=4),
        dict(type='MultimodalResize', scale=(-1, 128)),
        dict(type='MultimodalCenterCrop', crop_size=112),
        dict(type='MultimodalFlip', flip_ratio=0.0),
        dict(type='PackMultimodalInputs'),
    ]
    entries = [{'id': '151201', 'template': 'Pretending to pick [something] up', 'label': '',
                'placeholders': ['bottle']}]
    f = tmp_path / 'one.json'
    f.write_text(json.dumps(entries))
    ds = _build(f, pipeline=pipeline, data_prefix=dict(rgb=str(SE / 'videos'),
                                                       flow=str(tmp_path / 'noflow')))
    out = ds[0]
    inp, ds_ = out['inputs'], out['data_samples']
    assert inp['rgb'].shape == (1, 3, 8, 112, 112) and inp['rgb'].dtype == torch.float32
    assert inp['flow'].shape == (1, 2, 8, 112, 112) and float(inp['flow'].abs().sum()) == 0
    assert inp['boxes'].shape == (1, 8, 4, 6)
    assert ds_.gt_labels.item.tolist() == [68]
    assert ds_.modality_present == dict(rgb=True, flow=False, boxes=True)
    assert ds_.modality_mask == dict(rgb=True, flow=False, boxes=True)
    assert ds_.modalities == ('rgb', 'flow', 'boxes')
    # 33 frames, SampleFrames(8, 4) test mode -> frames 1.. ; boxes only on frames 1..23
    inds = ds_.frame_inds
    valid = inp['boxes'][0, :, :, 5]
    for t, i in enumerate(inds):
        assert bool(valid[t].any()) == (i <= 23), (t, i)


def test_box_values_unaugmented(tmp_path):
    entries = [{'id': '151201', 'template': 'Pretending to pick [something] up', 'label': '',
                'placeholders': ['bottle']}]
    f = tmp_path / 'one.json'
    f.write_text(json.dumps(entries))
    ds = _build(f, modalities=('boxes', ), pipeline=[dict(type='LoadBoxes', max_boxes=3)])
    info = ds.get_data_info(0)
    assert info['frame_size'] == (240, 400)
    info['frame_inds'] = np.array([1, 30])
    res = ds.pipeline(dict(info))
    boxes = res['boxes']
    assert boxes.shape == (2, 3, 6) and boxes.dtype == np.float32
    np.testing.assert_allclose(boxes[0, 0], [16.57 / 400, 95.47 / 240, 137.24 / 400,
                                             178.56 / 240, 1, 1], atol=1e-4)
    np.testing.assert_allclose(boxes[0, 1], [0, 115.80 / 240, 31.60 / 400, 230.72 / 240, 2, 1],
                               atol=1e-4)
    assert (boxes[0, 2] == 0).all()
    assert (boxes[1] == 0).all()  # frame 30 has no boxes: every slot invalid
    img = cv2.imread(str(SE / 'videos' / '151201' / '0001.jpg'))
    assert img.shape[:2] == (240, 400)
