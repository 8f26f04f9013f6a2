import copy
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.structures import LabelData

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample
from tiny_models import tiny_swin

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tools'))
import export_student  # noqa: E402

sys.path.pop(0)


def recognizer3d(in_channels=3):
    return dict(type='Recognizer3D', backbone=tiny_swin(in_channels),
                cls_head=dict(type='I3DHead', in_channels=16, num_classes=5),
                data_preprocessor=dict(type='ActionDataPreprocessor', mean=[128.] * 3,
                                       std=[64.] * 3, format_shape='NCTHW'))


def write_rawframes(root, num_videos=2, num_frames=4):
    """A tiny RawframeDataset: ``video_i/img_0000k.jpg`` and its annotation file."""
    rng = np.random.default_rng(0)
    lines = []
    for i in range(num_videos):
        d = root / f'video_{i}'
        d.mkdir(parents=True)
        for k in range(1, num_frames + 1):
            cv2.imwrite(str(d / f'img_{k:05d}.jpg'),
                        rng.integers(0, 256, (16, 16, 3), dtype=np.uint8))
        lines.append(f'video_{i} {num_frames} {i % 5}')
    ann = root / 'ann.txt'
    ann.write_text('\n'.join(lines) + '\n')
    return ann


def write_distill_config(tmp_path, teacher_ckpt, ann):
    """A distillation config; its test loader is plain MMAction2 (what the export keeps)."""
    model = dict(type='DistillRecognizer', student=recognizer3d(), teacher=recognizer3d(),
                 teacher_ckpt=teacher_ckpt, student_modality='rgb', teacher_modality='rgb',
                 distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=10.0)))
    pipeline = [dict(type='SampleFrames', clip_len=4, frame_interval=1, num_clips=1,
                     test_mode=True),
                dict(type='RawFrameDecode'),
                dict(type='Resize', scale=(16, 16), keep_ratio=False),
                dict(type='FormatShape', input_format='NCTHW'),
                dict(type='PackActionInputs')]
    cfg = Config(dict(
        custom_imports=dict(imports=['mmdistill_plugin'], allow_failed_imports=False),
        default_scope='mmaction', model=model,
        test_dataloader=dict(batch_size=2, num_workers=0,
                             sampler=dict(type='DefaultSampler', shuffle=False),
                             dataset=dict(type='RawframeDataset', ann_file=str(ann),
                                          data_prefix=dict(img=str(ann.parent)),
                                          pipeline=pipeline, test_mode=True)),
        test_evaluator=dict(type='AccMetric', metric_list=('top_k_accuracy', )),
        test_cfg=dict(type='TestLoop'),
        load_from='should_be_dropped.pth'))
    path = tmp_path / 'distill_cfg.py'
    cfg.dump(str(path))
    return cfg, path


def run_export(*args):
    return subprocess.run([sys.executable, str(REPO / 'tools' / 'export_student.py'), *args],
                          cwd=REPO, capture_output=True, text=True)


def test_round_trip_plain_recognizer3d(tmp_path):
    torch.manual_seed(0)
    teacher = MODELS.build(recognizer3d())
    teacher_ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict()), teacher_ckpt)
    ann = write_rawframes(tmp_path / 'frames')
    cfg, cfg_path = write_distill_config(tmp_path, str(teacher_ckpt), ann)
    torch.manual_seed(1)
    distiller = MODELS.build(cfg.model).eval()
    ckpt = tmp_path / 'epoch_1.pth'
    torch.save(dict(state_dict=distiller.state_dict(),
                    meta=dict(epoch=1, seed=0, config=cfg.pretty_text,
                              np_value=np.float64(0.5), dataset_meta=dict(classes=('a', 'b'))),
                    optimizer=dict(state={}, param_groups=[])), ckpt)

    out, out_cfg = tmp_path / 'student.pth', tmp_path / 'student_config.py'
    proc = run_export(str(cfg_path), str(ckpt), '--out', str(out),
                      '--student-config-out', str(out_cfg))
    assert proc.returncode == 0, proc.stderr

    exported = torch.load(out, weights_only=True)  # plain values only (no numpy, no hub)
    assert set(exported) == {'meta', 'state_dict'}
    assert not any(k.startswith(('student.', 'teacher.')) for k in exported['state_dict'])
    meta = exported['meta']
    assert meta['epoch'] == 1 and meta['np_value'] == 0.5 and 'export_note' in meta
    assert 'DistillRecognizer' in meta['distill_config']

    plain_cfg = Config.fromfile(str(out_cfg))
    assert plain_cfg.model.type == 'Recognizer3D'
    assert 'custom_imports' not in plain_cfg and 'test_evaluator' in plain_cfg
    model = MODELS.build(plain_cfg.model).eval()
    load_checkpoint(model, str(out), strict=True)

    g = torch.Generator().manual_seed(2)
    rgb = [torch.randint(0, 256, (1, 3, 4, 16, 16), generator=g).float() for _ in range(2)]
    samples = [ActionDataSample(gt_labels=LabelData(item=torch.tensor([i]))) for i in range(2)]
    data = distiller.data_preprocessor(
        dict(inputs=dict(rgb=copy.deepcopy(rgb)), data_samples=copy.deepcopy(samples)), False)
    ref = distiller(**data, mode='predict')
    got = model.test_step(dict(inputs=copy.deepcopy(rgb), data_samples=copy.deepcopy(samples)))
    for r, o in zip(ref, got):
        assert torch.allclose(r.pred_scores.item, o.pred_scores.item, atol=1e-6)

    # Plain MMAction2 tools/test.py (no plugin import) evaluates the exported student.
    test = subprocess.run([sys.executable, str(REPO / 'tools' / 'test.py'), str(out_cfg),
                           str(out), '--work-dir', str(tmp_path / 'work')],
                          cwd=REPO, capture_output=True, text=True)
    assert test.returncode == 0, test.stderr[-3000:]
    assert 'acc/top1' in test.stdout + test.stderr


def test_plugin_student_warns_and_bad_prefix_fails(tmp_path):
    cfg = Config(dict(
        custom_imports=dict(imports=['mmdistill_plugin'], allow_failed_imports=False),
        default_scope='mmaction',
        model=dict(type='DistillRecognizer',
                   student=dict(type='LogitEnsemble', members=dict(
                       rgb=dict(model=recognizer3d(), modality='rgb'))),
                   teacher=recognizer3d())))
    cfg_path = tmp_path / 'cfg.py'
    cfg.dump(str(cfg_path))
    torch.manual_seed(0)
    state = {f'student.members.rgb.{k}': v
             for k, v in MODELS.build(recognizer3d()).state_dict().items()}
    ckpt = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=state), ckpt)
    out_cfg = tmp_path / 'student_config.py'
    with pytest.warns(UserWarning, match=r"plugin components \['LogitEnsemble'\]"):
        export_student.main([str(cfg_path), str(ckpt), '--out', str(tmp_path / 's.pth'),
                             '--student-config-out', str(out_cfg)])
    assert 'custom_imports' in Config.fromfile(str(out_cfg))
    assert set(torch.load(tmp_path / 's.pth', weights_only=True)['state_dict']) == \
        {k[len('student.'):] for k in state}
    with pytest.raises(KeyError, match="prefix 'nope.'"):
        export_student.main([str(cfg_path), str(ckpt), '--out', str(tmp_path / 's.pth'),
                             '--prefix', 'nope.'])


@pytest.mark.parametrize('value', [np.arange(3), (1, np.int64(2))])
def test_plain_value_meta(value):
    assert export_student.plain_value(dict(v=value))['v'] in ([0, 1, 2], (1, 2))


@pytest.mark.parametrize('value,expected', [
    ([1, np.int64(2)], [1, 2]),
    ((1, np.int64(2)), (1, 2)),
    (np.arange(3), [0, 1, 2]),
    ([np.float64(0.5), [np.str_('a')]], [0.5, ['a']]),
    (dict(a=[np.int32(1)], b=(2, )), dict(a=[1], b=(2, ))),
])
def test_plain_value_keeps_container_types_and_plain_items(value, expected):
    out = export_student.plain_value(value)
    assert out == expected and type(out) is type(expected)

    def types(x):  # container types all the way down, and items reduced to built-ins
        if isinstance(x, (list, tuple)):
            return [type(x), [types(v) for v in x]]
        if isinstance(x, dict):
            return [dict, {k: types(v) for k, v in x.items()}]
        return type(x)

    assert types(out) == types(expected)
