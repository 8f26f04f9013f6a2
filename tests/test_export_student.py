import copy
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from e2e_utils import call_tool
from mmengine.config import Config
from mmengine.runner import load_checkpoint
from mmengine.structures import LabelData
from tiny_models import tiny_swin

from mmaction.registry import MODELS
from mmaction.structures import ActionDataSample

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
    """``tools/export_student.py ARGS`` in-process (its ``main``; tests/test_e2e_no_teacher.py
    runs it as a process)."""
    return call_tool(export_student.main, args, cwd=REPO)


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


BLOCK_PLUGIN = '''import sys


class _BlockPlugin:
    """Makes this interpreter behave as one without mmdistill_plugin installed."""

    def find_spec(self, name, path=None, target=None):
        if name == 'mmdistill_plugin' or name.startswith('mmdistill_plugin.'):
            raise ImportError(f'No module named {name!r} (blocked by the test)')
        return None


sys.meta_path.insert(0, _BlockPlugin())
'''
MMACTION_TEST = Path(__import__('mmaction').__file__).parent / '.mim' / 'tools' / 'test.py'
_LOCALIZERS = Path(__import__('mmaction').__file__).parent / 'models' / 'localizers'
#: MMAction2 1.2.0's wheel / sdist: mmaction.models imports only with the plugin's fix
#: (mmdistill_plugin_startup), so no interpreter without the plugin can run it
RELEASE_WITHOUT_DRN = (not (_LOCALIZERS / 'drn').is_dir()
                       and '.drn' in (_LOCALIZERS / '__init__.py').read_text())


def no_plugin_env(tmp_path):
    """Environment of a subprocess that cannot import the plugin (a ``sitecustomize`` on
    PYTHONPATH installs a meta-path finder raising ImportError; the repo is not on the path)."""
    import os
    site = tmp_path / 'no_plugin_site'
    site.mkdir()
    (site / 'sitecustomize.py').write_text(BLOCK_PLUGIN)
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
    env.update(PYTHONPATH=str(site), OMP_NUM_THREADS='1')
    return env


def ssv2_rgb_distill_config(tmp_path, toy, teacher_ckpt):
    """An mm2rgb-like distillation config: SelectModality RGB student (to_rgb: the plugin loads
    BGR), the plugin's SSv2 dataset and multimodal test pipeline, MultiHeadAccMetric."""
    from mmengine.config import Config
    student = recognizer3d()
    student['data_preprocessor'] = dict(
        type='SelectModality', modality='rgb',
        preprocessor=dict(type='ActionDataPreprocessor', mean=[120., 110., 100.],
                          std=[60., 50., 40.], to_rgb=True, format_shape='NCTHW'))
    ann = toy / 'sthv2' / 'annotations'
    pipeline = [dict(type='UniformSample', clip_len=4, num_clips=1, test_mode=True),
                dict(type='LoadRGBFrames'),
                dict(type='MultimodalResize', scale=(-1, 20)),
                dict(type='MultimodalCenterCrop', crop_size=16),
                dict(type='PackMultimodalInputs')]
    dataset = dict(type='SomethingSomethingV2Dataset', ann_file=str(ann / 'validation.json'),
                   labels_file=str(ann / 'labels.json'),
                   data_prefix=dict(video=str(toy / 'sthv2' / 'videos')), modalities=('rgb', ),
                   rgb_source='video', video_ext='.mp4', pipeline=pipeline, test_mode=True)
    loader = dict(batch_size=2, num_workers=0, sampler=dict(type='DefaultSampler', shuffle=False),
                  dataset=dataset)
    cfg = Config(dict(
        custom_imports=dict(imports=['mmdistill_plugin'], allow_failed_imports=False),
        default_scope='mmaction',
        model=dict(type='DistillRecognizer', student=student, teacher=recognizer3d(),
                   teacher_ckpt=teacher_ckpt, student_modality='rgb', teacher_modality='rgb',
                   distill_losses=dict(loss_kd=dict(type='KLDivergence', tau=10.0))),
        train_dataloader=dict(loader, dataset=dict(dataset, test_mode=False)),
        val_dataloader=loader, test_dataloader=loader,
        val_evaluator=dict(type='MultiHeadAccMetric', topk=(1, 5)),
        test_evaluator=dict(type='MultiHeadAccMetric', topk=(1, 5)),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=1), val_cfg=dict(type='ValLoop'),
        test_cfg=dict(type='TestLoop'),
        optim_wrapper=dict(optimizer=dict(type='AdamW', lr=1e-4)),
        auto_scale_lr=dict(enable=False, base_batch_size=32)))
    path = tmp_path / 'distill_ssv2.py'
    cfg.dump(str(path))
    return cfg, path


@pytest.fixture(scope='module')
def toy_sthv2(toy_data_sthv2_64):
    """The session's tiny toy data with 64-px SSv2 videos: decord decodes these mp4v videos
    exactly (it pads 48-px rows and fails)."""
    return toy_data_sthv2_64


def test_rgb_student_exports_plain_mmaction2_pipeline(tmp_path, toy_sthv2):
    """The RGB student of a plugin-data distillation config deploys without the plugin:
    VideoDataset + MMAction2 transforms, no custom_imports; MMAction2's own tools/test.py, in an
    interpreter that cannot import the plugin, gives the distiller's predictions."""
    import pickle
    if RELEASE_WITHOUT_DRN:
        pytest.skip('the installed MMAction2 release lacks mmaction/models/localizers/drn: '
                    'mmaction.models does not import without the plugin (1.2.0 from PyPI)')

    from mmengine.dataset import pseudo_collate

    from mmaction.registry import DATASETS
    torch.manual_seed(0)
    teacher_ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=MODELS.build(recognizer3d()).state_dict()), teacher_ckpt)
    cfg, cfg_path = ssv2_rgb_distill_config(tmp_path, toy_sthv2, str(teacher_ckpt))
    torch.manual_seed(1)
    distiller = MODELS.build(cfg.model).eval()
    ckpt = tmp_path / 'iter_1.pth'
    torch.save(dict(state_dict=distiller.state_dict(), meta=dict(epoch=1)), ckpt)
    dataset = DATASETS.build(cfg.test_dataloader.dataset)
    with torch.no_grad():
        ref = distiller.test_step(pseudo_collate([dataset[i] for i in range(len(dataset))]))
    ref = torch.stack([r.pred_scores.item for r in ref])

    out = tmp_path / 'not' / 'yet' / 'student.pth'          # folders that do not exist
    out_cfg = tmp_path / 'deploy' / 'student_config.py'
    proc = run_export(str(cfg_path), str(ckpt), '--out', str(out),
                      '--student-config-out', str(out_cfg))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert out.is_file() and out_cfg.is_file()

    plain = Config.fromfile(str(out_cfg))
    assert 'custom_imports' not in plain and 'train_dataloader' not in plain
    assert export_student.plugin_components(plain.to_dict()) == []
    ds = plain.test_dataloader.dataset
    assert ds.type == 'VideoDataset' and plain.val_dataloader.dataset == ds
    assert [t['type'] for t in ds.pipeline] == [
        'DecordInit', 'UniformSample', 'DecordDecode', 'Resize', 'CenterCrop', 'FormatShape',
        'PackActionInputs']
    lines = Path(ds.ann_file).read_text().split()
    assert len(lines) == 2 * len(dataset) and lines[1] == str(dataset.get_data_info(0)['label'])
    dp = plain.model.data_preprocessor
    assert dp.type == 'ActionDataPreprocessor' and dp.to_rgb is False  # decord gives RGB
    assert plain.test_evaluator.type == 'AccMetric'

    env = no_plugin_env(tmp_path)
    blocked = subprocess.run([sys.executable, '-c', 'import mmdistill_plugin'], env=env,
                             cwd=tmp_path, capture_output=True, text=True)
    assert blocked.returncode != 0 and 'blocked by the test' in blocked.stderr
    dump = tmp_path / 'preds.pkl'
    test = subprocess.run([sys.executable, str(MMACTION_TEST), str(out_cfg), str(out),
                           '--work-dir', str(tmp_path / 'work'), '--dump', str(dump)],
                          env=env, cwd=tmp_path, capture_output=True, text=True)
    assert test.returncode == 0, test.stderr[-3000:]
    assert 'acc/top1' in test.stdout + test.stderr
    with open(dump, 'rb') as f:
        got = pickle.load(f)
    got = torch.stack([torch.as_tensor(g['pred_scores']['item']) for g in got])
    assert got.shape == ref.shape
    torch.testing.assert_close(got, ref, atol=1e-5, rtol=1e-4)


def test_keep_plugin_data_and_unconvertible_pipeline(tmp_path, toy_sthv2):
    """--keep-plugin-data keeps the plugin pipeline, custom_imports and SelectModality; a plugin
    transform without a plain equivalent keeps them too, with a warning naming it."""
    torch.manual_seed(0)
    teacher_ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=MODELS.build(recognizer3d()).state_dict()), teacher_ckpt)
    cfg, cfg_path = ssv2_rgb_distill_config(tmp_path, toy_sthv2, str(teacher_ckpt))
    ckpt = tmp_path / 'ckpt.pth'
    torch.save(dict(state_dict=MODELS.build(cfg.model).state_dict()), ckpt)
    out_cfg = tmp_path / 'keep' / 'student_config.py'
    export_student.main([str(cfg_path), str(ckpt), '--out', str(tmp_path / 'keep' / 's.pth'),
                         '--student-config-out', str(out_cfg), '--keep-plugin-data'])
    kept = Config.fromfile(str(out_cfg))
    assert 'custom_imports' in kept and kept.model.data_preprocessor.type == 'SelectModality'
    assert kept.test_dataloader.dataset.type == 'SomethingSomethingV2Dataset'

    cfg.test_dataloader.dataset.pipeline.insert(
        3, dict(type='MultimodalRandomResizedCrop'))
    cfg.dump(str(cfg_path))
    out_cfg = tmp_path / 'warn' / 'student_config.py'
    with pytest.warns(UserWarning, match='MultimodalRandomResizedCrop'):
        export_student.main([str(cfg_path), str(ckpt), '--out', str(tmp_path / 'w.pth'),
                             '--student-config-out', str(out_cfg)])
    assert 'custom_imports' in Config.fromfile(str(out_cfg))


@pytest.mark.parametrize('name', ['mm2rgb/toy/student_rgb_flow_sthv2.py',
                                  'd3d/toy/student_sthv2.py'])
def test_project_rgb_student_configs_export_plugin_free(tmp_path, toy_sthv2, monkeypatch,
                                                        name):
    """The project's RGB student configs (SelectModality student, plugin SSv2 data, shared
    dataset / model variables) give a config without any plugin component."""
    (tmp_path / 'data').mkdir()
    (tmp_path / 'data' / 'toy').symlink_to(toy_sthv2)
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    plain, plugin_model = export_student.student_config(cfg, 'student', str(tmp_path / 's'))
    assert plugin_model == [] and 'custom_imports' not in plain
    assert export_student.plugin_components(plain.to_dict()) == []
    assert plain.test_dataloader.dataset.type == 'VideoDataset'
    assert plain.model.data_preprocessor.to_rgb is False
    assert (tmp_path / 's_val_list.txt').read_text().count('\n') == 6  # tiny: 6 val videos


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
