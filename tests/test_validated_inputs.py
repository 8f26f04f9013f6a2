"""Faults of issue 16 (docs/reliability.md, "Validated inputs"): each gives a named error, a
marked modality with its reason, or a correct result. Unit-level: no training subprocess."""
import json
import pickle
import re
import uuid

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from e2e_utils import REPO
from mmengine.dataset import pseudo_collate
from mmengine.model import BaseModel
from mmengine.runner import Runner
from scipy.io import wavfile
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.datasets.schemas import AnnotationError
from mmdistill_plugin.datasets.transforms import _utils as loader_utils
from mmdistill_plugin.datasets.transforms.invariants import MediaError
from mmdistill_plugin.engine.hooks import NonFiniteLossError

NID = 'P01_01_7'


@pytest.fixture
def warnings_logged(monkeypatch):
    seen = []
    monkeypatch.setattr(loader_utils, '_WARNED', set())
    monkeypatch.setattr(loader_utils, 'print_log', lambda msg, **kw: seen.append(msg))
    return seen


# ---------------------------------------------------------------- audio: finite, not degenerate
def _float_wav(path, values, sr=16000):
    wavfile.write(str(path), sr, np.asarray(values, np.float32))
    return path


def _audio_results(path, start=0.0, stop=1.0):
    return dict(audio_path=str(path), start_timestamp=start, stop_timestamp=stop,
                narration_id=NID)


@pytest.mark.parametrize('bad', [np.nan, np.inf, -np.inf], ids=['nan', 'inf', '-inf'])
def test_float_wav_with_non_finite_samples_is_refused(tmp_path, bad, warnings_logged):
    x = np.sin(np.arange(16000) / 5.0).astype(np.float32)
    x[4000] = bad
    p = _float_wav(tmp_path / 'a.wav', x)
    with pytest.raises(MediaError, match=re.escape(
            f'wav file {p} has 1 non-finite sample value(s) (NaN / inf), the first at '
            f'sample ')):
        TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=50))(_audio_results(p))
    out = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=50, allow_missing=True))(
        _audio_results(p))
    assert out['modality_present'] == {'audio': False} and not out['audio'].any()
    assert len(warnings_logged) == 1 and 'non-finite sample' in warnings_logged[0]
    assert f"audio missing for sample narration_id='{NID}'" in warnings_logged[0]


def test_stereo_channels_that_cancel_are_refused_a_silent_file_is_not(tmp_path):
    tone = (np.sin(np.arange(16000) / 5.0) * 10000).astype(np.int16)
    p = tmp_path / 'a.wav'
    wavfile.write(str(p), 16000, np.stack([tone, -tone], 1))
    with pytest.raises(MediaError, match=r'its 2 channels cancel in the mono mix'):
        TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=50))(_audio_results(p))
    wavfile.write(str(p), 16000, np.zeros((16000, 2), np.int16))  # silence: legitimate
    out = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=50))(_audio_results(p))
    assert out['modality_present'] == {'audio': True}
    assert (out['audio'] == np.float32(np.log(1e-6))).all()


# ---------------------------------------------------------------- frames: size, bit depth
def _frames(tmp, sizes, name='img_{:05d}.jpg'):
    d = tmp / 'rgb'
    d.mkdir(exist_ok=True)
    for i, (h, w) in enumerate(sizes, 1):
        cv2.imwrite(str(d / name.format(i)), np.full((h, w, 3), 40 * i, np.uint8))
    return d


def test_frame_of_another_size_mid_clip_names_the_file(tmp_path, warnings_logged):
    d = _frames(tmp_path, [(24, 32), (24, 32), (20, 32), (24, 32)])
    r = dict(frame_dir=str(d), frame_inds=np.array([1, 2, 3, 4]), narration_id=NID)
    with pytest.raises(MediaError, match=re.escape(
            f'rgb frame {d}/img_00003.jpg is 32x20 uint8, the first frame of the clip '
            f'{d}/img_00001.jpg is 32x24 uint8')):
        TRANSFORMS.build(dict(type='LoadRGBFrames'))(dict(r))
    out = TRANSFORMS.build(dict(type='LoadRGBFrames', allow_missing=True))(dict(r))
    assert out['modality_present'] == {'rgb': False}
    assert 'img_00003.jpg is 32x20' in warnings_logged[0]


def test_depth_16_bit_stays_16_bit_and_mixed_bit_depth_is_refused(tmp_path):
    d = tmp_path / 'depth'
    d.mkdir()
    deep = (np.arange(20 * 30).reshape(20, 30) * 97 % 65000).astype(np.uint16)
    cv2.imwrite(str(d / '00001.png'), deep)
    cv2.imwrite(str(d / '00002.png'), deep + 1)
    r = dict(depth_dir=str(d), frame_inds=np.array([1, 2]), total_frames=2)
    out = TRANSFORMS.build(dict(type='LoadDepthFrames'))(dict(r))['depth']
    assert out.dtype == np.uint16 and out.shape == (2, 20, 30, 1)
    assert int(out.max()) == int(deep.max()) + 1 > 255  # no 8-bit truncation
    np.testing.assert_array_equal(out[0, ..., 0], deep)
    cv2.imwrite(str(d / '00002.png'), (deep // 256).astype(np.uint8))  # an 8-bit frame mid-clip
    with pytest.raises(MediaError, match=r'depth frame .*00002\.png is 30x20 uint8, the first '
                                         r'frame of the clip .*00001\.png is 30x20 uint16'):
        TRANSFORMS.build(dict(type='LoadDepthFrames'))(dict(r))
    colour = np.zeros((20, 30, 3), np.uint8)
    colour[..., 2] = 200
    cv2.imwrite(str(d / '00002.png'), colour)
    with pytest.raises(MediaError, match=r'00002\.png has 3 different colour channels'):
        TRANSFORMS.build(dict(type='LoadDepthFrames'))(dict(r))


# ---------------------------------------------------------------- templates
@pytest.mark.parametrize('tmpl,text', [('{}/frame.jpg', 'has no frame-index field'),
                                       ('frame_{:05d}.jpg', 'is not a positional format'),
                                       ('{}_{}.jpg', None)])
def test_flow_template_without_index_field_is_refused_at_construction(tmpl, text):
    if text is None:  # component and index: accepted
        TRANSFORMS.build(dict(type='LoadFlowFrames', filename_tmpl=tmpl))
        return
    with pytest.raises(ValueError, match=re.escape(f"LoadFlowFrames filename_tmpl {tmpl!r} "
                                                   f'{text}')):
        TRANSFORMS.build(dict(type='LoadFlowFrames', filename_tmpl=tmpl))


def test_template_from_the_dataset_is_checked_before_counting(tmp_path):
    (tmp_path / 'x').mkdir()
    (tmp_path / 'x' / 'frame.jpg').write_bytes(b'')
    r = dict(flow_dir=str(tmp_path), flow_filename_tmpl='{}/frame.jpg',
             frame_inds=np.array([1]))
    with pytest.raises(ValueError, match='has no frame-index field'):  # was an endless loop
        TRANSFORMS.build(dict(type='LoadFlowFrames'))(r)
    with pytest.raises(ValueError, match=r"flow_filename_tmpl '\{\}/frame\.jpg' has no "
                                         r'frame-index field'):
        DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file='unused.csv',
                            flow_filename_tmpl='{}/frame.jpg', lazy_init=True))


# ---------------------------------------------------------------- boxes
def _boxes_file(tmp, frames):
    p = tmp / 'annotations.json'
    p.write_text(json.dumps({'2': frames}))
    return p


def _frame(name, *labels, placeholders=('pillow', )):
    return dict(name=name, gt_placeholders=list(placeholders), labels=[
        dict(gt_annotation=g, box2d=dict(x1=1, y1=2, x2=30, y2=40)) for g in labels])


def test_frame_listed_twice_is_refused(tmp_path):
    from mmdistill_plugin.datasets.something_something import load_box_annotations
    p = _boxes_file(tmp_path, [_frame('2/0001.jpg', 'object 0', 'object hand'),
                               _frame('2/0002.jpg', 'object 0'), _frame('2/0001.jpg')])
    # was: the second (empty) entry of frame 1 replaced the first: boxes gone, still present
    with pytest.raises(AnnotationError, match=re.escape(
            f"{p}: video 2: frame '2/0001.jpg' is listed twice (entries 0 and 2)")):
        load_box_annotations(str(p))


def test_object_beyond_the_placeholders_is_refused(tmp_path):
    from mmdistill_plugin.datasets.something_something import load_box_annotations
    p = _boxes_file(tmp_path, [_frame('2/0001.jpg', 'object 5', 'object hand')])
    with pytest.raises(AnnotationError, match=re.escape(
            f"{p}: video 2: frame entry 0 (2/0001.jpg): labels[0] is 'object 5' but "
            f"gt_placeholders lists 1 object(s) ['pillow']")):
        load_box_annotations(str(p))


def test_boxes_past_max_boxes_are_dropped_with_a_warning(warnings_logged):
    frames = {1: [(0, 1, 1.0, 2.0, 30.0, 40.0), (1, 1, 1.0, 2.0, 30.0, 40.0),
                  (2, 2, 1.0, 2.0, 5.0, 6.0)]}  # two objects, then the hand in slot 2
    r = dict(video_id='v1', total_frames=4, frame_inds=np.array([1]),
             boxes_info=dict(frames=frames, frame_size=(100, 100), video_id='v1'))
    out = TRANSFORMS.build(dict(type='LoadBoxes', max_boxes=2))(r)
    assert out['boxes'][0, :, 5].tolist() == [1, 1]
    assert warnings_logged == [
        "LoadBoxes: video 'v1': dropped 1 box(es) whose slot is >= max_boxes=2 (slots: objects "
        '0..k-1, then hands), first on frame 1: hand in slot 2; raise max_boxes to keep them']


def test_duplicate_key_in_a_json_file_is_refused(tmp_path):
    from mmdistill_plugin.datasets.something_something import load_json
    p = tmp_path / 'labels.json'
    p.write_text('{"Pushing something": "0", "Pulling something": "1", '
                 '"Pushing something": "1"}')
    with pytest.raises(ValueError, match=re.escape(
            f"SSv2 labels file {p}: key 'Pushing something' appears twice in one JSON object")):
        load_json(str(p), 'SSv2 labels file')


# ---------------------------------------------------------------- annotations (EPIC)
EPIC_HEADER = ('narration_id,participant_id,video_id,narration_timestamp,start_timestamp,'
               'stop_timestamp,start_frame,stop_frame,narration,verb,verb_class,noun,noun_class,'
               'all_nouns,all_noun_classes')


def _epic(tmp, *rows):
    p = tmp / 'ann.csv'
    p.write_text('\n'.join([EPIC_HEADER, *rows]) + '\n')
    return p


ROW0 = ('P01_01_0,P01,P01_01,00:00:01.00,00:00:01.00,00:00:02.50,61,150,open door,open,3,'
        'door,8,[\'door\'],[8]')
ROW1 = ('P01_01_1,P01,P01_01,00:00:03.00,00:00:03.00,00:00:04.00,181,240,close door,close,4,'
        'door,8,[\'door\'],[8]')


@pytest.mark.parametrize('row,text', [
    (ROW1.replace('00:00:03.00,00:00:03.00', '00:00:03.00,-00:00:03.00'),
     r"line 3 \(narration_id 'P01_01_1'\): start_timestamp '-00:00:03\.00' is not a timestamp "
     r'HH:MM:SS\.ff \(non-negative\)'),
    (ROW1.replace('P01_01_1', 'P01_01_0'),
     r"line 3 \(narration_id 'P01_01_0'\): narration_id 'P01_01_0' is not unique \(also line "
     r"2 \(narration_id 'P01_01_0'\)\)"),
    (ROW1.replace(',181,240,', ',2181,2240,'),
     r"line 3 \(narration_id 'P01_01_1'\): start_frame 2181 / stop_frame 2240 disagree with "
     r'start_timestamp 00:00:03\.00 / stop_timestamp 00:00:04\.00 at the frame rate of the '
     r"other rows of video 'P01_01'"),
    (ROW1.replace('close,4,', 'open,4,'),
     r"line 3 \(narration_id 'P01_01_1'\): verb 'open' has verb_class 4 here and another on "
     r'other rows'),
    (ROW1.replace(',181,', ',0,'),
     r"line 3 \(narration_id 'P01_01_1'\): start_frame 0 is not an integer frame number >= 1 "
     r'\(frames are 1-based\)'),
    (ROW1.replace('P01,P01_01,', 'P02,P01_01,'),
     r"line 3 \(narration_id 'P01_01_1'\): video_id 'P01_01' does not start with "
     r"participant_id 'P02' \+ \"_\""),
    (ROW1.replace(",8,['door'],[8]", ",8,['door'],[9]"),
     r"line 3 \(narration_id 'P01_01_1'\): noun_class 8 is not the first of all_noun_classes "
     r"'\[9\]'"),
], ids=['negative-start', 'duplicate-id', 'frames-of-another-row', 'verb-two-classes',
        'frame-zero', 'participant-mismatch', 'noun-not-first'])
def test_epic_schema_names_file_row_field_value(tmp_path, row, text):
    p = _epic(tmp_path, ROW0, row)
    with pytest.raises(AnnotationError, match=re.escape(str(p)) + ': ' + text):
        DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=str(p)))


def test_epic_schema_lists_every_failure_of_a_file(tmp_path):
    rows = [ROW0] + [ROW1.replace('P01_01_1', f'P01_01_{k}').replace('00:00:03.00,00:00:03.00',
                                                                     '00:00:03.00,-1')
                     for k in range(1, 9)]
    with pytest.raises(AnnotationError) as info:
        DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=str(_epic(tmp_path, *rows))))
    assert len(info.value.failures) == 8
    f = info.value.failures[0]
    assert (f['where'], f['field'], f['value']) == ("line 3 (narration_id 'P01_01_1')",
                                                    'start_timestamp', '-1')
    assert str(info.value).endswith(f'... and 3 more failure(s) in {tmp_path}/ann.csv')


# ---------------------------------------------------------------- finite losses
class _Poisoned(BaseModel):
    """Loss (or, with ``grad=True``, only the gradient) turns NaN on a sample named poison."""

    def __init__(self, grad=False):
        super().__init__()
        self.fc = nn.Linear(2, 1)
        self.grad = grad

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        out = self.fc(x).pow(2).mean()
        if any(ds.metainfo.get('narration_id') == 'poison' for ds in data_samples):
            if self.grad:  # finite loss, NaN gradient: d sqrt(w - w) / dw = inf * 0
                w = self.fc.weight.sum()
                out = out + (w - w.detach()).abs().sqrt() * 0
            else:
                out = out * float('nan')
        return dict(loss=out) if mode == 'loss' else out


def _batches(poison_at):
    items = []
    for i in range(4):
        ds = ActionDataSample()
        ds.set_metainfo(dict(narration_id='poison' if i == poison_at else f'P01_01_{i}'))
        items.append(dict(inputs=torch.full((2, ), float(i)), data_samples=ds))
    return DataLoader(items, batch_size=2, collate_fn=pseudo_collate)


@pytest.mark.parametrize('grad', [False, True], ids=['loss', 'gradient'])
def test_non_finite_loss_stops_training_before_a_checkpoint(tmp_path, grad):
    runner = Runner(
        model=_Poisoned(grad), work_dir=str(tmp_path), train_dataloader=_batches(poison_at=3),
        train_cfg=dict(by_epoch=True, max_epochs=3),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1)),
        custom_hooks=[dict(type='FiniteLossHook')], default_scope='mmaction',
        experiment_name=f'finite_{uuid.uuid4().hex}')
    what = 'gradient of 1 parameter(s), first fc.weight' if grad else 'loss (loss: loss=nan)'
    with pytest.raises(NonFiniteLossError, match=re.escape(
            f"non-finite {what} at iteration 2 (epoch 1, batch 2); samples of the batch: "
            f"narration_id='P01_01_2', narration_id='poison'")):
        runner.train()
    assert not list(tmp_path.glob('epoch_*.pth'))  # nothing saved from the poisoned step
    assert all(torch.isfinite(p).all() for p in runner.model.parameters())  # never stepped


def test_finite_loss_hook_is_on_in_every_config():
    from mmengine.config import Config
    cfg = Config.fromfile(REPO / 'configs/_base_/default_runtime.py')
    assert dict(type='FiniteLossHook') in cfg.custom_hooks


# ---------------------------------------------------------------- fuse_scores
def _dump(path, ids, labels, scores):
    data = [dict(video_id=v, gt_label=torch.tensor([lab]), pred_score=torch.tensor(s))
            for v, lab, s in zip(ids, labels, scores)]
    with open(path, 'wb') as f:
        pickle.dump(data, f)
    return str(path)


def _fuse():
    import sys
    sys.path.insert(0, str(REPO / 'tools' / 'analysis'))
    import fuse_scores
    return fuse_scores


def test_fuse_scores_aligns_dumps_by_sample_id(tmp_path):
    fs = _fuse()
    ids, labels = ['a', 'b', 'c', 'd'], [0, 1, 2, 1]
    onehot = np.eye(3)[labels] + 0.1
    rgb = _dump(tmp_path / 'rgb.pkl', ids, labels, onehot)
    perm = [2, 0, 3, 1]  # the second stream's dump lists the videos in another order
    flow = _dump(tmp_path / 'flow.pkl', [ids[i] for i in perm], [labels[i] for i in perm],
                 onehot[perm])
    metrics, names, _ = fs.fuse([rgb, flow], topk=(1, ))
    assert names == ['rgb', 'flow']
    assert metrics['flow_top1'] == 1.0 and metrics['fused_top1'] == 1.0  # was 0.25 for flow


def test_fuse_scores_refuses_what_cannot_be_fused(tmp_path):
    fs = _fuse()
    ids, labels = ['a', 'b', 'c'], [0, 1, 2]
    rgb = _dump(tmp_path / 'rgb.pkl', ids, labels, np.eye(3))
    with pytest.raises(ValueError, match=r'given twice'):
        fs.fuse([rgb, rgb])
    other = _dump(tmp_path / 'other.pkl', ['a', 'b', 'x'], labels, np.eye(3))
    with pytest.raises(ValueError, match=r"hold different samples: 1 of .*rgb\.pkl missing "
                                         r"\(first \[\"video_id='c'\"\]\)"):
        fs.fuse([rgb, other])
    wrong = _dump(tmp_path / 'wrong.pkl', ids, [0, 1, 0], np.eye(3))
    with pytest.raises(ValueError, match=r"labels of .*wrong\.pkl and .*rgb\.pkl disagree at "
                                         r"video_id='c': 0 vs 2"):
        fs.fuse([rgb, wrong])
    dup = _dump(tmp_path / 'dup.pkl', ['a', 'a', 'c'], labels, np.eye(3))
    with pytest.raises(ValueError, match=r"dup\.pkl: sample video_id='a' appears more than once"):
        fs.fuse([rgb, dup])
    four = _dump(tmp_path / 'four.pkl', ids, labels, np.eye(4)[:3])
    with pytest.raises(ValueError, match=r"different class counts \{'rgb': 3, 'four': 4\}"):
        fs.fuse([rgb, four])
