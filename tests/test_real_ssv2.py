"""The SSv2 KARMMA teacher and student train and test on real Something-Else clips.

Real frames, real Something-Else boxes, flow extracted from the frames by
``tools/data/extract_flow.py`` and the real SSv2 labels of the 5 clips of
``known_labels.csv``. The models are the toy-size ones (the paper's Swin-B/T extractors are
too slow for CPU tests); the data path is the one a user runs on their own SSv2 copy:

    python tools/train.py configs/karmma/teacher_ssv2.py   # data/sthv2 in the layout of sthv2.py

The tools (flow extraction, train, test) run in-process (``e2e_utils``).
"""
import csv
import json

import pytest
from e2e_utils import REPO, SHORT, call_tool, load_tool, tools_test_in_process, train_in_process


def dataset_options(prefix, root, shared):
    se = shared / 'something_else'
    return [f'{prefix}.ann_file={root}/annotations/clips.json',
            f'{prefix}.labels_file={shared}/something_something_v2/'
            'something-something-v2-labels.json',
            f'{prefix}.boxes_file={se}/annotations.json',
            f'{prefix}.rgb_source=frames',
            f'{prefix}.data_prefix.rgb={se}/videos',
            f'{prefix}.data_prefix.flow={root}/flow']


@pytest.fixture(scope='module')
def real_root(tmp_path_factory):
    from conftest import SHARED_DATA as shared
    if not (shared / 'something_else' / 'known_labels.csv').exists():
        pytest.skip('../shared/data/something_else is absent')
    root = tmp_path_factory.mktemp('real_ssv2')
    boxes = json.loads((shared / 'something_else' / 'annotations.json').read_text())
    clips = []
    with open(shared / 'something_else' / 'known_labels.csv') as f:
        for row in csv.DictReader(f):
            vid = row['video_id']
            placeholders = boxes[vid][0]['gt_placeholders']
            clips.append(dict(id=vid, template=row['template'], placeholders=placeholders,
                              label=row['template'].replace('[something]', placeholders[0])))
            out = call_tool(load_tool('tools/data/extract_flow.py').main, [
                '--input', shared / 'something_else' / 'videos' / vid, '--out-dir',
                root / 'flow' / vid, '--algorithm', 'farneback', '--new-short', '64'], cwd=root)
            assert out.returncode == 0, out.log[-3000:]
    (root / 'annotations').mkdir()
    (root / 'annotations' / 'clips.json').write_text(json.dumps(clips))
    return root, shared, {c['id']: int(row) for c, row in zip(
        clips, [r['ssv2_label_index'] for r in csv.DictReader(
            open(shared / 'something_else' / 'known_labels.csv'))])}


def test_real_clips_parse_with_their_labels(real_root):
    from mmengine.config import Config

    from mmaction.registry import DATASETS
    root, shared, labels = real_root
    cfg = Config.fromfile(REPO / 'configs/karmma/toy/teacher_ssv2.py')
    cfg.merge_from_dict(dict(o.split('=', 1) for o in dataset_options(
        'val_dataloader.dataset', root, shared)))
    ds = DATASETS.build(cfg.val_dataloader.dataset)
    assert len(ds) == 5
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        assert info['label'] == labels[info['video_id']]
    sample = ds[0]
    assert set(sample['inputs']) == {'rgb', 'flow', 'boxes'}
    assert sample['inputs']['boxes'][..., 5].sum() > 0  # real boxes were found
    assert all(sample['data_samples'].metainfo['modality_present'].values())


def test_teacher_and_student_train_and_test_on_real_clips(real_root):
    root, shared, _ = real_root
    data = []
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        data += dataset_options(f'{loader}.dataset', root, shared)
    common = ['train_cfg.max_epochs=1', 'train_dataloader.batch_size=2', *SHORT, *data]
    train_in_process([REPO / 'configs/karmma/toy/teacher_ssv2.py',
                      '--work-dir', 'work_dirs/toy_teacher_ssv2', '--cfg-options',
                      'model.cls_head.num_classes=174', *common], cwd=root)
    out = train_in_process([REPO / 'configs/karmma/toy/student_ssv2.py',
                            '--work-dir', 'work_dirs/toy_student_ssv2', '--cfg-options',
                            'model.student.cls_head.num_classes=174',
                            'model.teacher.cls_head.num_classes=174', *common], cwd=root)
    log = out.stdout + out.stderr
    assert 'loss_kd' in log and 'top1:' in log
    out = tools_test_in_process([REPO / 'configs/karmma/toy/student_ssv2.py',
                                 root / 'work_dirs/toy_student_ssv2/epoch_1.pth', '--work-dir',
                                 'work_dirs/t', '--cfg-options',
                                 'model.student.cls_head.num_classes=174',
                                 'model.teacher.cls_head.num_classes=174', *SHORT, *data],
                                cwd=root)
    assert 'mean_class_accuracy' in out.stdout + out.stderr
