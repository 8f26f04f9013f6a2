"""EpicKitchens100Dataset on the real EPIC-100 annotation files."""
import csv
from pathlib import Path

import numpy as np
import pytest

import mmdistill_plugin  # noqa: F401
from mmaction.registry import DATASETS
from mmdistill_plugin.datasets import EpicKitchens100Dataset
from mmdistill_plugin.datasets.epic_kitchens import epic_star_split, parse_timestamp

DATA = Path(__file__).resolve().parents[1].parent / 'shared' / 'data'
EPIC = DATA / 'epic_kitchens_100_annotations'
VAL_CSV = EPIC / 'EPIC_100_validation.csv'
VAL_PKL = EPIC / 'EPIC_100_validation.pkl'
TRAIN_CSV = EPIC / 'UDA_annotations' / 'EPIC_100_uda_source_train.csv'

pytestmark = pytest.mark.skipif(not VAL_CSV.exists(), reason='EPIC annotations not available')


def _rows(path):
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def _build(ann_file, **kw):
    cfg = dict(type='EpicKitchens100Dataset', ann_file=str(ann_file),
               data_prefix=dict(rgb='/data/epic', flow='/data/epic', audio='/data/epic',
                                video='/data/epic'), pipeline=[])
    cfg.update(kw)
    return DATASETS.build(cfg)


def test_parse_timestamp():
    assert parse_timestamp('00:05:27.28') == pytest.approx(327.28)
    assert parse_timestamp('01:00:01.5') == pytest.approx(3601.5)


def test_validation_csv():
    ds = _build(VAL_CSV, verb_classes_file=str(EPIC / 'EPIC_100_verb_classes.csv'),
                noun_classes_file=str(EPIC / 'EPIC_100_noun_classes.csv'))
    assert len(ds) == 9668
    info = ds.get_data_info(0)
    assert info['narration_id'] == 'P01_11_0'
    assert info['label'] == dict(verb=0, noun=2)
    assert info['start_index'] == 1 and info['total_frames'] == 113
    assert info['start_timestamp'] == 0.0 and info['stop_timestamp'] == pytest.approx(1.89)
    assert info['video_id'] == 'P01_11' and info['participant_id'] == 'P01'
    assert info['modalities'] == ('rgb', 'flow', 'audio')
    assert info['frame_dir'] == '/data/epic/P01/rgb_frames/P01_11'
    assert info['filename_tmpl'].format(5) == 'frame_0000000005.jpg'
    assert info['flow_dir'] == '/data/epic/P01/flow_frames/P01_11'
    assert info['flow_filename_tmpl'].format('u', 3) == 'u/frame_0000000003.jpg'
    assert info['rgb_to_flow_ratio'] == 2
    assert info['audio_path'] == '/data/epic/P01/audio/P01_11.wav'
    idx = [r['narration_id'] for r in _rows(VAL_CSV)].index('P01_11_100')
    third = ds.get_data_info(idx)  # P01_11_100,...,00:05:27.28,00:05:31.97,19636,19918,..,2,..,17
    assert third['narration_id'] == 'P01_11_100'
    assert third['label'] == dict(verb=2, noun=17)
    assert third['start_index'] == 19636 and third['total_frames'] == 19918 - 19636 + 1
    assert third['start_timestamp'] == pytest.approx(327.28)
    assert third['stop_timestamp'] == pytest.approx(331.97)
    assert ds.metainfo['num_verb_classes'] == 97 and ds.metainfo['num_noun_classes'] == 300
    assert ds.metainfo['verb_classes'][0] == 'take' and ds.metainfo['noun_classes'][2] == 'plate'
    # every row agrees with an independent csv read
    rows = _rows(VAL_CSV)
    labels = [(int(r['verb_class']), int(r['noun_class'])) for r in rows]
    got = [tuple(ds.get_data_info(i)['label'].values()) for i in range(len(ds))]
    assert got == labels


def test_video_source_default_counts():
    ds = _build(VAL_CSV, rgb_source='video', modalities=('rgb', ))
    info = ds.get_data_info(0)
    assert info['filename'] == '/data/epic/P01/videos/P01_11.MP4'
    assert 'flow_dir' not in info and 'audio_path' not in info
    assert ds.metainfo['verb_classes'] is None and ds.metainfo['num_verb_classes'] == 97


def test_validation_pkl_matches_csv():
    pytest.importorskip('pandas')
    a, b = _build(VAL_CSV), _build(VAL_PKL)
    assert len(b) == 9668
    for i in (0, 1, 2, 5000, 9667):
        x, y = a.get_data_info(i), b.get_data_info(i)
        for k in ('narration_id', 'label', 'start_index', 'total_frames', 'start_timestamp',
                  'stop_timestamp', 'frame_dir', 'audio_path', 'flow_dir'):
            assert x[k] == y[k], k


@pytest.mark.skipif(not TRAIN_CSV.exists(), reason='UDA train file not available')
def test_pruned_validation():
    train = _rows(TRAIN_CSV)
    tv = {r['verb_class'] for r in train}
    tn = {r['noun_class'] for r in train}
    val = _rows(VAL_CSV)
    kept = [r['narration_id'] for r in val if r['verb_class'] in tv and r['noun_class'] in tn]
    ds = _build(VAL_CSV, pruned_validation=True, train_ann_file=str(TRAIN_CSV))
    assert 0 < len(ds) < 9668
    assert len(ds) == len(kept)
    assert [ds.get_data_info(i)['narration_id'] for i in range(len(ds))] == kept
    with pytest.raises(ValueError, match='train_ann_file'):
        _build(VAL_CSV, pruned_validation=True)


@pytest.mark.skipif(not TRAIN_CSV.exists(), reason='UDA train file not available')
def test_epic_star_split():
    n = len(_rows(TRAIN_CSV))
    assert n == 16115
    tr = _build(TRAIN_CSV, split='epic_star_train', split_seed=3)
    va = _build(TRAIN_CSV, split='epic_star_val', split_seed=3)
    ids_tr = [tr.get_data_info(i)['narration_id'] for i in range(len(tr))]
    ids_va = [va.get_data_info(i)['narration_id'] for i in range(len(va))]
    assert len(ids_tr) == int(round(0.9 * n)) and len(ids_va) == n - len(ids_tr)
    assert not set(ids_tr) & set(ids_va)
    assert set(ids_tr) | set(ids_va) == {r['narration_id'] for r in _rows(TRAIN_CSV)}
    again = _build(TRAIN_CSV, split='epic_star_train', split_seed=3)
    assert [again.get_data_info(i)['narration_id'] for i in range(len(again))] == ids_tr
    other = epic_star_split(n, 'epic_star_train', seed=4)
    assert not np.array_equal(other, epic_star_split(n, 'epic_star_train', seed=3))
    with pytest.raises(ValueError, match='split'):
        _build(TRAIN_CSV, split='train')


def test_unknown_class_raises(tmp_path):
    rows = VAL_CSV.read_text().splitlines()
    hdr = rows[0].split(',')
    bad = rows[2].split(',')
    bad[hdr.index('verb_class')] = '97'
    f = tmp_path / 'bad.csv'
    f.write_text('\n'.join([rows[0], rows[1], ','.join(bad)]) + '\n')
    with pytest.raises(ValueError) as e:
        _build(f)
    msg = str(e.value)
    assert str(f) in msg and 'P01_11_1' in msg and 'verb_class 97' in msg
    with pytest.raises(FileNotFoundError, match='nope.csv'):
        _build(tmp_path / 'nope.csv')


def test_direct_construction():
    ds = EpicKitchens100Dataset(str(VAL_CSV), modalities=('audio', ),
                                data_prefix=dict(audio='/aud'),
                                path_templates=dict(audio='{video_id}.wav'))
    assert ds.get_data_info(0)['audio_path'] == '/aud/P01_11.wav'
