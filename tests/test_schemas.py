"""The annotation schemas accept every real annotation file in ../shared/data, and
docs/reliability.md's schema section is the one generated from the schema objects."""
import json
from pathlib import Path

import pytest
from e2e_utils import REPO

from mmdistill_plugin.datasets.epic_kitchens import (read_class_names, read_epic_annotations,
                                                     read_epic_sounds)
from mmdistill_plugin.datasets.schemas import AnnotationError
from mmdistill_plugin.datasets.schemas import docs as schema_docs
from mmdistill_plugin.datasets.schemas import validate_records
from mmdistill_plugin.datasets.schemas.ssv2 import SSV2_ENTRIES, SSV2_LABELS
from mmdistill_plugin.datasets.something_something import load_box_annotations

EPIC_ACTIONS = ['EPIC_100_validation.csv', 'EPIC_100_validation.pkl',
                'EPIC_100_test_timestamps.csv', 'UDA_annotations/EPIC_100_uda_source_train.csv',
                'UDA_annotations/EPIC_100_uda_source_val.csv',
                'UDA_annotations/EPIC_100_uda_target_val.csv']


@pytest.mark.parametrize('name', EPIC_ACTIONS)
def test_real_epic_action_files_validate(shared_data, name):
    rows = read_epic_annotations(str(Path(shared_data) / 'epic_kitchens_100_annotations' / name))
    assert len(rows) > 5000


@pytest.mark.parametrize('name,n,first', [('EPIC_100_verb_classes.csv', 97, 'take'),
                                          ('EPIC_100_noun_classes.csv', 300, 'tap'),
                                          ('EPIC_100_noun_classes_v2.csv', 305, 'tap')])
def test_real_epic_class_files_validate(shared_data, name, n, first):
    names = read_class_names(str(Path(shared_data) / 'epic_kitchens_100_annotations' / name))
    assert len(names) == n and names[0] == first


@pytest.mark.parametrize('name,labelled', [('EPIC_Sounds_validation.csv', True),
                                           ('EPIC_Sounds_recognition_test_timestamps.csv',
                                            False)])
def test_real_epic_sounds_files_validate(shared_data, name, labelled):
    rows = read_epic_sounds(str(Path(shared_data) / 'epic_sounds_annotations' / name))
    assert len(rows) > 5000
    r = rows[0]
    assert r['start_sample'] == round(r['start_timestamp'] * 24000) or \
        abs(r['start_sample'] - r['start_timestamp'] * 24000) <= 24
    assert ('class_id' in r) == labelled


def test_epic_sounds_schema_refuses_samples_that_are_not_the_timestamps(shared_data, tmp_path):
    src = Path(shared_data) / 'epic_sounds_annotations' / 'EPIC_Sounds_validation.csv'
    lines = src.read_text().splitlines()[:4]
    lines[1] = lines[1].replace(',49656,', ',59656,')  # P01_11_0: 2.069 s is sample 49656
    bad = tmp_path / 'sounds.csv'
    bad.write_text('\n'.join(lines) + '\n')
    with pytest.raises(AnnotationError, match=r"line 2 \(annotation_id 'P01_11_0'\): "
                                              r'start_sample 59656 / stop_sample 71832 are not'):
        read_epic_sounds(str(bad))


def test_real_charades_csv_validates_and_logs_its_reversed_actions(
        shared_data, tmp_path, monkeypatch):
    import sys
    sys.path.insert(0, str(REPO / 'tools' / 'data'))
    import charades_to_list

    from mmdistill_plugin.datasets.transforms import _utils
    seen = []
    monkeypatch.setattr(_utils, '_WARNED', set())
    monkeypatch.setattr(_utils, 'print_log', lambda msg, **kw: seen.append(msg))
    csv = Path(shared_data) / 'charades_annotations' / 'Charades_v1_train.csv'
    with pytest.raises(ValueError, match='videos of .* have no frames'):  # schema passed
        charades_to_list.convert(str(csv), str(tmp_path), str(tmp_path / 'out.txt'))
    assert len(seen) == 1 and seen[0].count('ends before it starts') == 4  # 7 actions, 4 rows
    assert "Charades_v1_train.csv: line 100 (id '00SL4'): an action of" in seen[0]


SSV2 = ['something_something_v2/something-something-v2-validation.json',
        'something_something_v2/something-something-v2-test.json',
        'something_else/dataset_splits/fewshot/base_validation_set.json',
        'something_else/dataset_splits/fewshot/finetune_5shot_training.json',
        'something_else/dataset_splits/fewshot/finetune_10shot_train.json',
        'something_else/dataset_splits/compositional_oneobject/train.json']
LABELS = ['something_something_v2/something-something-v2-labels.json',
          'something_else/dataset_splits/compositional/labels.json',
          'something_else/dataset_splits/compositional_shuffled/labels.json',
          'something_else/dataset_splits/compositional_oneobject/labels.json',
          'something_else/dataset_splits/fewshot/base_labels.json',
          'something_else/dataset_splits/fewshot/finetune_labels.json']


@pytest.mark.parametrize('name', SSV2)
def test_real_ssv2_split_lists_validate(shared_data, name):
    path = Path(shared_data) / name
    entries = validate_records(SSV2_ENTRIES, json.loads(path.read_text()), str(path),
                               where=lambda loc: (str(loc), '')).root
    assert len(entries) > 400


@pytest.mark.parametrize('name', LABELS)
def test_real_label_maps_validate(shared_data, name):
    path = Path(shared_data) / name
    labels = validate_records(SSV2_LABELS, json.loads(path.read_text()), str(path),
                              where=lambda loc: ('', '')).root
    assert sorted(labels.values()) == list(range(len(labels)))


def test_real_something_else_boxes_validate(shared_data):
    boxes = load_box_annotations(str(Path(shared_data) / 'something_else' / 'annotations.json'))
    assert len(boxes) == 13 and sum(len(v['frames']) for v in boxes.values()) == 555


def test_real_mmaction2_rawframe_lists_validate(shared_data, monkeypatch):
    from mmaction.registry import DATASETS
    from mmdistill_plugin.datasets.transforms import _utils
    seen = []
    monkeypatch.setattr(_utils, '_WARNED', set())
    monkeypatch.setattr(_utils, 'print_log', lambda msg, **kw: seen.append(msg))
    ann = Path(shared_data) / 'mmaction2' / 'main' / 'tests' / 'data' / 'annotations'
    single = DATASETS.build(dict(type='MultimodalFrameListDataset', modalities=('rgb', ),
                                 ann_file=str(ann / 'rawframe_test_list.txt')))
    assert len(single) == 2 and single.get_data_info(1)['label'] == 127
    # its two lines name the same folder: kept (each line is a sample), with a warning
    assert len(seen) == 1 and "line 1 (name 'imgs'): name 'imgs' is not unique (also line 2" \
        in seen[0]
    ds = DATASETS.build(dict(type='MultimodalFrameListDataset', modalities=('rgb', ),
                             ann_file=str(ann / 'rawframe_test_list_multi_label.txt'),
                             multi_class=True, num_classes=6))
    assert [ds.get_data_info(i)['label'] for i in range(2)] == [[1], [3, 5]]


def test_reliability_doc_schemas_are_generated_from_the_schema_objects():
    doc = (REPO / 'docs' / 'reliability.md').read_text()
    assert schema_docs.section(doc) == schema_docs.render(), (
        'docs/reliability.md is out of date: run '
        'python -m mmdistill_plugin.datasets.schemas.docs docs/reliability.md')
