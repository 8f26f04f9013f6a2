"""The fault matrix (docs/reliability.md): each bad input or kill either raises an error naming
what is at fault, or yields a documented modality mask / resume point, never silent damage.
Sections: config, labels, checkpoints, then media and annotation faults (loaders, datasets)."""
import json
import os
import os.path as osp
import pickle
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import cv2
import numpy as np
import pytest
import torch
import torch.nn as nn
from e2e_utils import REPO
from mmengine.dataset import BaseDataset, pseudo_collate
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import LabelData
from scipy.io import wavfile
from tiny_models import tiny_swin
from torch.utils.data import DataLoader

from mmaction.registry import DATASETS, MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.datasets.sample_errors import SampleNamingMixin, name_sample_error
from mmdistill_plugin.datasets.something_something import load_box_annotations
from mmdistill_plugin.datasets.transforms import _utils as loader_utils
from mmdistill_plugin.engine import checkpoint_files
from mmdistill_plugin.engine.atomic_local_backend import atomic_write
from mmdistill_plugin.engine.checkpoint_files import (find_resumable_checkpoint,
                                                      is_intact_checkpoint, read_last_checkpoint)
from mmdistill_plugin.engine.hooks.label_range_check_hook import check_labels, classification_heads
from mmdistill_plugin.models.utils import resolve_checkpoint

EPIC = ('rgb', 'flow', 'audio')


# ---------------------------------------------------------------- config: modality names
def _sample(loaded=EPIC, present=None):
    present = present or {m: True for m in loaded}
    return dict(modalities=tuple(loaded), sample_idx=3, narration_id='P01_01_7',
                modality_present=dict(present), modality_mask=dict(present))


CONFIG_ROWS = [
    # (transform config, expected exception, expected text)
    (dict(type='ModalityDropout', modalities=['audoi']), ValueError,
     "'audoi' (did you mean 'audio'?)"),
    (dict(type='ModalityDropout', modalities=['Audio']), ValueError,
     "'Audio' (did you mean 'audio'?)"),
    (dict(type='ModalityDropout', modalities='audio'), TypeError, "write modalities=['audio']"),
    (dict(type='MissingModalities', drop='audio'), TypeError, "write drop=['audio']"),
    (dict(type='MissingModalities', drop=['flwo']), ValueError, "'flwo' (did you mean 'flow'?)"),
    (dict(type='MissingModalities', drop=['rgb', 7]), TypeError, 'list of strings'),
]


@pytest.mark.parametrize('cfg,exc,text', CONFIG_ROWS,
                         ids=[f'{c["type"]}-{c.get("modalities", c.get("drop"))}'
                              for c, _, _ in CONFIG_ROWS])
def test_bad_modality_names_raise_at_construction(cfg, exc, text):
    with pytest.raises(exc, match=re.escape(text)):
        TRANSFORMS.build(cfg)


@pytest.mark.parametrize('cfg', [dict(type='ModalityDropout', p=1.0, modalities=['boxes']),
                                 dict(type='MissingModalities', drop=['boxes'])])
def test_modality_the_dataset_does_not_load_raises_naming_the_sample(cfg):
    t = TRANSFORMS.build(cfg)  # 'boxes' is a known modality, but EPIC does not load it
    with pytest.raises(ValueError, match=r"\['boxes'\].*narration_id='P01_01_7'.*"
                                         r"\['rgb', 'flow', 'audio'\]"):
        t(_sample())


MASK_ROWS = [
    # (transform config, modality_present, expected modality_mask)
    (dict(type='MissingModalities', drop=['audio']), None,
     dict(rgb=True, flow=True, audio=False)),
    (dict(type='MissingModalities', drop=['flow', 'audio']), None,
     dict(rgb=True, flow=False, audio=False)),
    # a modality absent on disk stays masked; dropping it is not an error
    (dict(type='MissingModalities', drop=['audio']), dict(rgb=True, flow=False, audio=True),
     dict(rgb=True, flow=False, audio=False)),
    (dict(type='ModalityDropout', p=1.0, modalities=['audio']), None,
     dict(rgb=True, flow=True, audio=False)),
]


@pytest.mark.parametrize('cfg,present,mask', MASK_ROWS)
def test_valid_modality_names_give_the_documented_mask(cfg, present, mask):
    r = TRANSFORMS.build(cfg)(_sample(present=present))
    assert r['modality_mask'] == mask
    assert r['modality_present'] == (present or {m: True for m in EPIC})


# ---------------------------------------------------------------- config: labels vs heads
def _samples(**fields):
    n = len(next(iter(fields.values())))
    out = []
    for i in range(n):
        ds = ActionDataSample()
        ds.set_metainfo(dict(video_id=f'v{i}'))
        ds.gt_labels = LabelData(**{k: torch.tensor([v[i]]) for k, v in fields.items()})
        out.append(ds)
    return out


@pytest.mark.parametrize('num_classes,labels,text', [
    (2, dict(item=[0, 2]), "head 'item' has num_classes=2 but got labels [2]"),
    (dict(verb=3, noun=2), dict(verb=[0, 1], noun=[1, 5]),
     "head 'noun' has num_classes=2 but got labels [5]"),
    (2, dict(item=[-1, 0]), 'got labels [-1]'),
])
def test_multi_head_mlp_label_out_of_range(num_classes, labels, text):
    head = MODELS.build(dict(type='MultiHeadMLP', in_channels=4, num_classes=num_classes))
    with pytest.raises(ValueError, match=re.escape(text)):
        head.loss(torch.randn(2, 4), _samples(**labels))


def test_mmaction_head_label_out_of_range_caught_before_the_loss():
    model = MODELS.build(dict(type='Recognizer3D', backbone=tiny_swin(3),
                              cls_head=dict(type='I3DHead', in_channels=16, num_classes=2)))
    heads = classification_heads(model)
    assert heads == [('cls_head', 'I3DHead', {'item': 2})]
    check_labels(heads, _samples(item=[0, 1]))  # in range: no error
    with pytest.raises(ValueError, match=re.escape(
            "Label 2 (gt_labels.item) of sample video_id='v1' is out of range for head "
            'cls_head (I3DHead, num_classes=2)')):
        check_labels(heads, _samples(item=[1, 2]))


def test_label_check_hook_is_on_in_every_config():
    from mmengine.config import Config
    cfg = Config.fromfile(REPO / 'configs/_base_/default_runtime.py')
    assert dict(type='LabelRangeCheckHook') in cfg.custom_hooks


# ---------------------------------------------------------------- checkpoints (in process)
class _Tiny(BaseModel):
    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(2, 1)

    def forward(self, inputs, data_samples=None, mode='tensor'):
        out = self.fc(inputs)
        return dict(loss=out.pow(2).mean()) if mode == 'loss' else out


class _Epochs(Hook):
    """Records the epochs the train loop runs and the epoch it starts from."""

    def __init__(self):
        self.ran, self.start = [], None

    def before_train(self, runner):
        self.start = runner.epoch

    def before_train_epoch(self, runner):
        self.ran.append(runner.epoch + 1)


def _runner(work_dir, max_epochs, resume=False, load_from=None, **hook):
    loader = DataLoader([dict(inputs=torch.full((2, ), float(i))) for i in range(4)],
                        batch_size=2)
    epochs = _Epochs()
    runner = Runner(
        model=_Tiny(), work_dir=str(work_dir), train_dataloader=loader,
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook', interval=1,
                                           max_keep_ckpts=1, **hook),
                           logger=dict(type='LoggerHook', interval=1)),
        custom_hooks=[epochs], resume=resume, load_from=load_from, default_scope='mmaction',
        experiment_name=f'faults_{uuid.uuid4().hex}')
    return runner, epochs


@pytest.fixture
def warnings_seen(monkeypatch):
    seen = []
    real = checkpoint_files._warn

    def record(msg):
        seen.append(msg)
        real(msg)

    monkeypatch.setattr(checkpoint_files, '_warn', record)
    return seen


def _tear(path, keep=0.5):
    data = open(path, 'rb').read()
    with open(path, 'wb') as f:
        f.write(data[:int(len(data) * keep)])


def _trained(tmp_path, epochs=2):
    wd = tmp_path / 'wd'
    runner, _ = _runner(wd, epochs)
    runner.train()
    return wd


def test_hook_keeps_one_checkpoint_and_a_relative_pointer(tmp_path):
    wd = _trained(tmp_path)
    assert sorted(p for p in os.listdir(wd) if p.endswith('.pth')) == ['epoch_2.pth']
    assert (wd / 'last_checkpoint').read_text() == 'epoch_2.pth'
    assert is_intact_checkpoint(str(wd / 'epoch_2.pth'))
    assert not [p for p in os.listdir(wd) if p.endswith('.tmp')]


# Kill states of a run with max_keep_ckpts=1 killed while saving epoch 3 (torn epoch_3.pth).
# plain mmengine: epoch_2.pth already deleted and last_checkpoint (absolute) names it.
# AtomicCheckpointHook: epoch_2.pth kept, last_checkpoint still names it (stale).
KILL_ROWS = [
    # (row id, pointer text or None for no pointer ({wd} = work dir), delete epoch_2, resumed
    #  epoch (0 = from scratch), warning texts)
    ('stale-pointer', 'epoch_2.pth', False, 2, ['epoch_3.pth is torn']),
    ('pointer-to-torn', 'epoch_3.pth', False, 2, ['epoch_3.pth is torn',
                                                  'resuming from the newest intact']),
    ('no-pointer', None, False, 2, ['epoch_3.pth is torn', 'no readable last_checkpoint']),
    ('empty-pointer', '', False, 2, ['last_checkpoint is empty', 'epoch_3.pth is torn']),
    ('plain-mmengine', '{wd}/epoch_2.pth', True, 0, ['epoch_3.pth is torn',
                                                     'training starts from scratch']),
]


@pytest.mark.parametrize('row,pointer,deleted,resumed,texts', KILL_ROWS,
                         ids=[r[0] for r in KILL_ROWS])
def test_resume_after_kill_while_saving(tmp_path, warnings_seen, row, pointer, deleted,
                                        resumed, texts):
    wd = _trained(tmp_path)
    shutil.copy(wd / 'epoch_2.pth', wd / 'epoch_3.pth')
    _tear(wd / 'epoch_3.pth')
    if deleted:
        os.remove(wd / 'epoch_2.pth')
    if pointer is None:
        os.remove(wd / 'last_checkpoint')
    else:
        (wd / 'last_checkpoint').write_text(pointer.format(wd=wd))
    runner, epochs = _runner(wd, 4, resume=True)
    runner.train()
    assert epochs.start == resumed
    assert epochs.ran == list(range(resumed + 1, 5))
    for text in texts:
        assert any(text in w for w in warnings_seen), (text, warnings_seen)
    assert (wd / 'last_checkpoint').read_text() == 'epoch_4.pth'
    assert torch.load(wd / 'epoch_4.pth', weights_only=False)['meta']['epoch'] == 4


def test_resume_from_an_explicit_torn_checkpoint_raises(tmp_path):
    wd = _trained(tmp_path)
    shutil.copy(wd / 'epoch_2.pth', wd / 'epoch_3.pth')
    _tear(wd / 'epoch_3.pth', keep=0.9)
    runner, _ = _runner(wd, 4, resume=True, load_from=str(wd / 'epoch_3.pth'))
    with pytest.raises(RuntimeError, match=r'epoch_3.pth: the checkpoint is torn.*newest intact '
                                           r'one is .*epoch_2.pth'):
        runner.train()


def test_kill_inside_the_save_leaves_the_previous_checkpoint(tmp_path, monkeypatch):
    wd = tmp_path / 'wd'
    runner, _ = _runner(wd, 2)
    real_replace = os.replace

    def killed(src, dst):  # the process dies after writing the temp file, before the rename
        if str(dst).endswith('epoch_2.pth'):
            raise KeyboardInterrupt('killed')
        return real_replace(src, dst)

    monkeypatch.setattr(os, 'replace', killed)
    with pytest.raises(KeyboardInterrupt):
        runner.train()
    monkeypatch.undo()
    assert sorted(os.listdir(wd)) == sorted(
        [p for p in os.listdir(wd) if not p.endswith('.tmp')])  # temp file cleaned up
    assert not (wd / 'epoch_2.pth').exists()
    assert (wd / 'last_checkpoint').read_text() == 'epoch_1.pth'
    assert is_intact_checkpoint(str(wd / 'epoch_1.pth'))
    runner, epochs = _runner(wd, 2, resume=True)
    runner.train()
    assert epochs.start == 1 and epochs.ran == [2]


def test_stale_temporary_of_a_killed_save_is_removed(tmp_path):
    wd = _trained(tmp_path, epochs=1)
    stale = wd / f'.epoch_2.pth.123.{uuid.uuid4().hex}.tmp'
    stale.write_bytes(b'half a checkpoint')
    runner, epochs = _runner(wd, 2, resume=True)
    runner.train()
    assert not stale.exists() and epochs.ran == [2]


def test_previous_best_removed_only_after_the_new_best_is_written(tmp_path, monkeypatch):
    from mmdistill_plugin.engine.hooks import AtomicCheckpointHook
    wd = _trained(tmp_path, epochs=1)
    hook = AtomicCheckpointHook(save_best='acc', rule='greater', max_keep_ckpts=1)
    runner, _ = _runner(wd, 1)
    hook.before_train(runner)
    order = []
    monkeypatch.setattr(runner, 'save_checkpoint',
                        lambda out_dir, filename, *a, **k: (
                            order.append(('save', filename)),
                            atomic_write(b'x', osp.join(out_dir, filename))))
    real_remove = hook.file_backend.remove
    monkeypatch.setattr(hook.file_backend, 'remove',
                        lambda p: (order.append(('remove', osp.basename(p))), real_remove(p)))
    runner.train_loop._epoch = 1
    hook._save_best_checkpoint(runner, dict(acc=0.5))
    runner.train_loop._epoch = 2
    hook._save_best_checkpoint(runner, dict(acc=0.7))
    saves = [i for i, o in enumerate(order) if o == ('save', 'best_acc_epoch_2.pth')]
    removes = [i for i, o in enumerate(order) if o == ('remove', 'best_acc_epoch_1.pth')]
    assert saves and removes and saves[0] < removes[0], order
    assert (wd / 'best_acc_epoch_2.pth').exists() and not (wd / 'best_acc_epoch_1.pth').exists()


# ---------------------------------------------------------------- last_checkpoint resolution
@pytest.mark.parametrize('pointer,expect,warns', [
    ('epoch_2.pth', 'copy', False),                 # relative (AtomicCheckpointHook)
    ('{orig}/epoch_2.pth', 'copy', True),           # absolute into the original (plain mmengine)
    ('/gone/work_dir/epoch_2.pth', 'copy', True),   # absolute, original deleted
])
def test_copied_work_dir_uses_its_own_checkpoint(tmp_path, warnings_seen, pointer, expect,
                                                 warns):
    orig = _trained(tmp_path)
    copy = tmp_path / 'copy'
    shutil.copytree(orig, copy)
    (copy / 'last_checkpoint').write_text(pointer.format(orig=orig))
    assert resolve_checkpoint(str(copy)) == str(copy / 'epoch_2.pth')
    assert bool(warnings_seen) == warns
    if warns:
        assert 'copied or moved work dir' in warnings_seen[0]
    # --resume in the copy continues from the copy's own file
    runner, epochs = _runner(copy, 3, resume=True)
    runner.train()
    assert runner._load_from == str(copy / 'epoch_2.pth') and epochs.ran == [3]


def test_absolute_pointer_outside_the_work_dir_is_kept(tmp_path):
    other = tmp_path / 'elsewhere.pth'
    torch.save(dict(state_dict={}), other)
    wd = tmp_path / 'wd'
    wd.mkdir()
    (wd / 'last_checkpoint').write_text(str(other))
    assert read_last_checkpoint(str(wd)) == str(other)


@pytest.mark.parametrize('pointer,error,text', [
    (None, FileNotFoundError, 'without a last_checkpoint file'),
    ('', ValueError, 'last_checkpoint is empty'),
    ('epoch_9.pth', FileNotFoundError, 'names epoch_9.pth'),
    ('/gone/epoch_9.pth', FileNotFoundError, 'names /gone/epoch_9.pth, which does not exist'),
])
def test_unresolvable_work_dir_names_the_pointer(tmp_path, pointer, error, text):
    if pointer is not None:
        (tmp_path / 'last_checkpoint').write_text(pointer)
    with pytest.raises(error, match=re.escape(text)):
        resolve_checkpoint(str(tmp_path))


def test_intact_check_on_torn_and_corrupted_files(tmp_path):
    path = tmp_path / 'c.pth'
    torch.save(dict(state_dict=dict(w=torch.arange(1000.))), path)
    assert is_intact_checkpoint(str(path))
    data = bytearray(path.read_bytes())
    for keep in (0.99, 0.5, 0.0):
        path.write_bytes(bytes(data[:int(len(data) * keep)]))
        assert not is_intact_checkpoint(str(path))
    i = data.find(np.float32(500.).tobytes())  # flip a byte of the tensor payload
    data[i] ^= 0xFF
    path.write_bytes(bytes(data))
    assert not is_intact_checkpoint(str(path))  # CRC mismatch
    torch.save(dict(a=1), path, _use_new_zipfile_serialization=False)
    assert is_intact_checkpoint(str(path))
    _tear(path)
    assert not is_intact_checkpoint(str(path))


def test_find_resumable_prefers_the_newest_intact(tmp_path, warnings_seen):
    for e in (1, 2, 3):
        torch.save(dict(meta=dict(epoch=e)), tmp_path / f'epoch_{e}.pth')
    torch.save(dict(), tmp_path / 'best_acc_epoch_9.pth')  # not a resume candidate
    _tear(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text('epoch_1.pth')
    assert find_resumable_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    assert any('epoch_3.pth is torn' in w for w in warnings_seen)
    assert any('names ' in w and 'epoch_1.pth' in w for w in warnings_seen)


def test_toy_and_paper_configs_use_the_atomic_hook():
    from mmengine.config import Config
    cfgs = sorted((REPO / 'configs').glob('*/*.py')) + sorted((REPO / 'configs').glob('*/toy/*.py'))
    assert len(cfgs) > 20
    for path in cfgs:
        cfg = Config.fromfile(path)
        assert cfg.default_hooks.checkpoint.type == 'AtomicCheckpointHook', path


# ---------------------------------------------------------------- SIGKILL through tools/train.py
EPOCH_LINE = re.compile(r'Epoch\(train\)\s*\[(\d+)\]\[\s*(\d+)/(\d+)\]')


def test_sigkill_mid_epoch_then_resume_continues(toy_workspace):
    """tools/train.py killed with SIGKILL mid-epoch (after a checkpoint), then a torn next
    checkpoint planted (a kill inside its save, stale last_checkpoint): --resume warns naming
    it and continues from the last intact epoch to the end (~50 s: two tool start-ups)."""
    tmp_path = toy_workspace
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS='1')
    cfg = REPO / 'configs/karmma/toy/baseline_epic.py'
    opts = ['default_hooks.checkpoint.interval=1', 'default_hooks.logger.interval=1',
            'train_dataloader.batch_size=1', 'train_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False']
    train = [sys.executable, REPO / 'tools/train.py', cfg, '--work-dir', 'wd', '--no-validate',
             '--seed', '0']
    wd = tmp_path / 'wd'
    with open(tmp_path / 'run1.log', 'w') as log:
        proc = subprocess.Popen([*map(str, train), '--cfg-options', 'train_cfg.max_epochs=50',
                                 *opts],
                                cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT)
        # a guard against a hung run only: on a loaded 2-core machine the start-up alone
        # (imports, the config formatted for the log and the dump) can take minutes
        deadline = time.time() + 600
        try:
            while True:
                assert proc.poll() is None, (tmp_path / 'run1.log').read_text()[-3000:]
                assert time.time() < deadline, 'no checkpoint within 600 s'
                seen = EPOCH_LINE.findall((tmp_path / 'run1.log').read_text())
                # kill in the middle of an epoch after the one a checkpoint was saved for
                if (wd / 'last_checkpoint').exists() and seen and int(seen[-1][0]) >= 2 \
                        and 2 <= int(seen[-1][1]) < int(seen[-1][2]):
                    break
                time.sleep(0.05)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    saved = int(re.match(r'epoch_(\d+)\.pth$', (wd / 'last_checkpoint').read_text()).group(1))
    assert saved >= 1 and is_intact_checkpoint(str(wd / f'epoch_{saved}.pth'))
    # a second kill, inside the save of the next epoch: torn file, stale pointer
    shutil.copy(wd / f'epoch_{saved}.pth', wd / f'epoch_{saved + 1}.pth')
    _tear(wd / f'epoch_{saved + 1}.pth')
    out = subprocess.run([*map(str, train), '--resume', '--cfg-options',
                          f'train_cfg.max_epochs={saved + 1}', *opts],
                         cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    log = out.stdout + out.stderr
    (tmp_path / 'run2.log').write_text(log)
    assert out.returncode == 0, log[-3000:]
    assert f'epoch_{saved + 1}.pth is torn' in log, log[-3000:]
    assert f'resumed epoch: {saved}' in log
    ran = sorted({int(e) for e, _, _ in EPOCH_LINE.findall(log)})
    assert ran == [saved + 1]  # continues at the epoch after the saved one, to the end
    assert (wd / 'last_checkpoint').read_text() == f'epoch_{saved + 1}.pth'
    assert is_intact_checkpoint(str(wd / f'epoch_{saved + 1}.pth'))  # the torn file replaced
    assert not (wd / f'epoch_{saved}.pth').exists()  # max_keep_ckpts=1, deleted after


def test_export_student_resolves_a_relative_last_checkpoint(tmp_path):
    sys.path.insert(0, str(REPO / 'tools'))
    try:
        import export_student
    finally:
        sys.path.pop(0)
    wd = _trained(tmp_path, epochs=1)
    assert (wd / 'last_checkpoint').read_text() == 'epoch_1.pth'
    assert export_student.resolve_checkpoint(str(wd)) == str(wd / 'epoch_1.pth')


# ================================================================ media and annotation faults
# Each row: a tiny faulty input built in tmp_path, and either the error text (naming the file /
# row / sample and what is wrong) or the modality marked missing (config allows missing data)
# with a warning naming the sample. docs/reliability.md has the same rows as tables.
NID = 'P01_01_7'  # the sample id the media rows run under


@pytest.fixture
def loader_warnings(monkeypatch):
    """Warnings of the loaders / annotation readers (``warn_once``), fresh per test."""
    seen = []
    monkeypatch.setattr(loader_utils, '_WARNED', set())
    monkeypatch.setattr(loader_utils, 'print_log', lambda msg, **kw: seen.append(msg))
    return seen


class _OneSample(SampleNamingMixin, BaseDataset):
    """One results dict through ``pipeline``, named like our datasets' samples."""

    def __init__(self, results, pipeline):
        self._results = results
        super().__init__(pipeline=pipeline, serialize_data=False)

    def load_data_list(self):
        return [dict(self._results)]


def _jpg(path, gray=False, size=(12, 16)):
    path.parent.mkdir(parents=True, exist_ok=True)
    shape = size if gray else (*size, 3)
    cv2.imwrite(str(path), np.random.RandomState(0).randint(0, 255, shape, np.uint8))
    return path


def _wav(path, secs, sr=16000):
    x = (np.sin(np.arange(int(secs * sr)) * 0.3) * 8000).astype(np.int16)
    wavfile.write(str(path), sr, x)
    return path


def _truncate(path, keep=0.5):
    data = path.read_bytes()
    path.write_bytes(data[:int(len(data) * keep)])
    return path


def _rgb_frames(tmp, bad=None, how='empty'):
    """Frames img_00001..3.jpg; frame ``bad`` emptied / truncated / deleted."""
    for i in (1, 2, 3):
        _jpg(tmp / 'rgb' / f'img_{i:05d}.jpg')
    p = tmp / 'rgb' / f'img_{bad:05d}.jpg'
    if how == 'empty':
        p.write_bytes(b'')
    elif how == 'truncated':
        _truncate(p, 0.4)
    else:
        p.unlink()
    return dict(frame_dir=str(tmp / 'rgb'), frame_inds=np.array([1, 2, 3]))


def _video(tmp, how):
    p = tmp / 'v.mp4'
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*'mp4v'), 10, (32, 32))
    for i in range(8):
        w.write(np.full((32, 32, 3), 20 * i, np.uint8))
    w.release()
    if how == 'empty':
        p.write_bytes(b'')
    else:
        _truncate(p)
    return dict(filename=str(p), frame_inds=np.array([1, 4]))


def _flow(tmp, n=3, empty=None):
    """EPIC layout u/v flow frames 1..n (frame ``empty`` of u emptied); 8 RGB indices up to 16
    need flow frames up to 8 at ratio 2."""
    for c in 'uv':
        for i in range(1, n + 1):
            _jpg(tmp / 'flow' / c / f'frame_{i:010d}.jpg', gray=True)
    if empty:
        (tmp / 'flow' / 'u' / f'frame_{empty:010d}.jpg').write_bytes(b'')
    return dict(flow_dir=str(tmp / 'flow'), flow_filename_tmpl='{}/frame_{:010d}.jpg',
                flow_components=('u', 'v'), rgb_to_flow_ratio=2,
                frame_inds=np.arange(2, 17, 2) if not empty else np.array([1, 3, 5]))


def _audio(tmp, how):
    p = tmp / 'a.wav'
    if how == 'zero':
        _wav(p, 0)
        seg = (0.0, 1.0)
    elif how == 'truncated':
        _truncate(_wav(p, 2.0))
        seg = (0.2, 0.4)  # inside the intact part: the file is still rejected
    elif how == 'garbage':
        p.write_bytes(b'RIFF\x00\x00')
        seg = (0.0, 1.0)
    elif how == 'outside':
        _wav(p, 1.0)
        seg = (5.0, 6.0)
    else:  # start > stop
        _wav(p, 3.0)
        seg = (2.0, 1.0)
    return dict(audio_path=str(p), start_timestamp=seg[0], stop_timestamp=seg[1])


def _boxes(tmp, frames, total=10):
    return dict(video_id='v1', total_frames=total, frame_inds=np.array([1, 5]),
                boxes_info=dict(frames=frames, frame_size=(100, 100), video_id='v1',
                                source='annotations.json'))


# (row id, results builder, loader, modality, error type, error text (regex); {tmp}: tmp_path,
#  maskable: the fault gives a missing modality under allow_missing=True)
MEDIA_ROWS = [
    ('rgb-zero-byte-jpg', lambda t: _rgb_frames(t, 2), 'LoadRGBFrames', 'rgb', ValueError,
     r'cannot decode image {tmp}/rgb/img_00002\.jpg: the file is empty \(0 bytes\)', True),
    ('rgb-truncated-jpg', lambda t: _rgb_frames(t, 3, 'truncated'), 'LoadRGBFrames', 'rgb',
     ValueError, r'cannot decode image {tmp}/rgb/img_00003\.jpg \(\d+ bytes\): not a valid '
                 r'image \(truncated or corrupt\)', True),
    ('rgb-missing-jpg', lambda t: _rgb_frames(t, 2, 'deleted'), 'LoadRGBFrames', 'rgb',
     FileNotFoundError, r'frame not found: {tmp}/rgb/img_00002\.jpg', True),
    ('rgb-zero-byte-video', lambda t: _video(t, 'empty'), 'LoadRGBFrames', 'rgb', RuntimeError,
     r'cannot decode video {tmp}/v\.mp4', True),
    ('rgb-truncated-video', lambda t: _video(t, 'truncated'), 'LoadRGBFrames', 'rgb',
     RuntimeError, r'cannot decode video {tmp}/v\.mp4', True),
    ('flow-zero-byte-jpg', lambda t: _flow(t, empty=2), 'LoadFlowFrames', 'flow', ValueError,
     r'cannot decode image {tmp}/flow/u/frame_0000000002\.jpg: the file is empty', True),
    ('flow-shorter-than-segment', lambda t: _flow(t), 'LoadFlowFrames', 'flow', ValueError,
     r'flow of {tmp}/flow has 3 frames but the sample needs flow frames up to 8 \(RGB frames '
     r'up to 16, 2 RGB frame\(s\) per flow frame\)', True),
    ('wav-0-samples', lambda t: _audio(t, 'zero'), 'LoadAudioLogMel', 'audio', ValueError,
     r'wav file {tmp}/a\.wav has no samples', True),
    ('wav-truncated', lambda t: _audio(t, 'truncated'), 'LoadAudioLogMel', 'audio', ValueError,
     r'cannot read wav file {tmp}/a\.wav: truncated: the header declares 32000 samples', True),
    ('wav-garbage-header', lambda t: _audio(t, 'garbage'), 'LoadAudioLogMel', 'audio',
     ValueError, r'cannot read wav file {tmp}/a\.wav \(not a complete PCM wav\): error: '
                 r'unpack requires', True),
    ('wav-shorter-than-segment', lambda t: _audio(t, 'outside'), 'LoadAudioLogMel', 'audio',
     ValueError, r'audio segment \[5\.000 s, 6\.000 s\] of {tmp}/a\.wav has no samples \(the '
                 r'file is 1\.000 s long\)', True),
    ('audio-start-after-stop', lambda t: _audio(t, 'reversed'), 'LoadAudioLogMel', 'audio',
     ValueError, r'start_timestamp 2\.000 s > stop_timestamp 1\.000 s in the annotation of '
                 rf"sample narration_id='{NID}' \(audio {{tmp}}/a\.wav\)", False),
    ('boxes-only-past-video-end',
     lambda t: _boxes(t, {50: [(0, 1, 1.0, 1.0, 9.0, 9.0)], 61: []}), 'LoadBoxes', 'boxes',
     ValueError, r"video 'v1' has boxes only on frames 50\.\.61 of annotations\.json, none "
                 r'within its 10 frames', True),
    ('boxes-video-not-annotated', lambda t: dict(_boxes(t, {}), boxes_info=None), 'LoadBoxes',
     'boxes', KeyError, r"no box annotations for video 'v1'", True),
]


def _media(row, tmp_path):
    rid, make, loader, modality, exc, text, maskable = row
    results = dict(make(tmp_path), narration_id=NID, modalities=(modality, ))
    return results, dict(type=loader), re.compile(text.format(tmp=re.escape(str(tmp_path))))


@pytest.mark.parametrize('row', MEDIA_ROWS, ids=[r[0] for r in MEDIA_ROWS])
def test_media_fault_raises_naming_file_and_sample(row, tmp_path):
    results, cfg, text = _media(row, tmp_path)
    ds = _OneSample(results, [cfg])
    with pytest.raises(row[4]) as info:
        ds[0]
    msg = str(info.value)
    assert msg.startswith(f"sample narration_id='{NID}' (index 0): "), msg
    assert text.search(msg), msg
    # the loader's own error is chained, its message kept after the sample's name
    assert msg.endswith(': ' + info.value.__cause__.args[0])


@pytest.mark.parametrize('row', MEDIA_ROWS, ids=[r[0] for r in MEDIA_ROWS])
def test_media_fault_marked_missing_when_allowed(row, tmp_path, loader_warnings):
    results, cfg, text = _media(row, tmp_path)
    t = TRANSFORMS.build(dict(cfg, allow_missing=True))
    if not row[6]:  # an annotation fault: raised even when missing data is allowed
        with pytest.raises(row[4], match=text):
            t(results)
        return
    modality = row[3]
    out = t(results)
    assert out['modality_present'] == {modality: False}
    assert out['modality_mask'] == {modality: False}
    assert not out[modality].any()  # zero fill of the documented shape
    assert len(loader_warnings) == 1
    sample = "video_id='v1'" if modality == 'boxes' else f"narration_id='{NID}'"
    assert f'{modality} missing for sample {sample}' in loader_warnings[0]
    assert text.search(loader_warnings[0]), loader_warnings[0]


def test_flow_one_frame_past_the_end_is_clamped_not_an_error(tmp_path):
    """max_overrun=1: the last RGB frame's flow does not exist (SSv2 flow i = frame i -> i+1)."""
    r = dict(_flow(tmp_path, n=3), frame_inds=np.array([1, 5, 7, 8]))  # flow 1, 3, 4, 4
    out = TRANSFORMS.build(dict(type='LoadFlowFrames'))(r)
    assert out['flow_inds'].tolist() == [1, 3, 3, 3]
    assert out['modality_present'] == {'flow': True}
    with pytest.raises(ValueError, match='needs flow frames up to 4'):
        TRANSFORMS.build(dict(type='LoadFlowFrames', max_overrun=0))(r)


def test_audio_segment_partly_past_the_end_is_used_with_a_warning(tmp_path, loader_warnings):
    r = dict(audio_path=str(_wav(tmp_path / 'a.wav', 1.0)), start_timestamp=0.5,
             stop_timestamp=2.0, narration_id=NID)
    out = TRANSFORMS.build(dict(type='LoadAudioLogMel', num_frames=200))(r)
    assert out['modality_present'] == {'audio': True}
    n = 1 + (8000 - 400) // 160  # the 0.5 s covered -> 48 frames of real audio, then padding
    assert (out['audio'][:n].max(1) > np.log(1e-6) + 5).all()  # the tone's bins
    assert (out['audio'][n:] == np.float32(np.log(1e-6))).all()
    assert loader_warnings == [
        f"LoadAudioLogMel: sample narration_id='{NID}': segment [0.500 s, 2.000 s] runs past "
        f'the end of {tmp_path}/a.wav (1.000 s); using the 0.500 s it covers']


@pytest.mark.parametrize('box,bad', [((0, 1, 60.0, 10.0, 20.0, 30.0), 'x1 > x2'),
                                     ((0, 1, float('nan'), 10.0, 20.0, 30.0), 'NaN'),
                                     ((0, 1, 10.0, 30.0, 20.0, 30.0), 'y1 == y2')],
                         ids=['x1>x2', 'nan', 'zero-height'])
def test_invalid_boxes_dropped_with_a_warning(box, bad, loader_warnings):
    good = (1, 2, 10.0, 20.0, 50.0, 60.0)
    r = _boxes(None, {1: [box, good], 5: [good]})
    out = TRANSFORMS.build(dict(type='LoadBoxes', max_boxes=2))(r)['boxes']
    assert out[0, 0].tolist() == [0] * 6  # the invalid box: slot empty, valid 0
    np.testing.assert_allclose(out[0, 1], [0.1, 0.2, 0.5, 0.6, 2, 1])
    np.testing.assert_allclose(out[1, 1], [0.1, 0.2, 0.5, 0.6, 2, 1])
    assert np.isfinite(out).all()
    assert len(loader_warnings) == 1
    assert loader_warnings[0].startswith(
        "LoadBoxes: video 'v1': dropped 1 invalid box(es) (non-finite or x2 <= x1 / y2 <= y1) "
        'of annotations.json, first on frame 1'), loader_warnings[0]


def test_invalid_boxes_dropped_when_annotations_load(tmp_path, loader_warnings):
    def lab(ann, x1, y1, x2, y2):
        return dict(gt_annotation=ann, box2d=dict(x1=x1, y1=y1, x2=x2, y2=y2))
    ann = {'7': [dict(name='7/0001.jpg', labels=[lab('object 0', 50, 0, 10, 9),
                                                 lab('object hand', 0, 0, 5, 5)]),
                 dict(name='7/0002.jpg', labels=[lab('object 0', 1, 2, 3, 4)])]}
    p = tmp_path / 'annotations.json'
    p.write_text(json.dumps(ann).replace('"x1": 1,', '"x1": NaN,'))
    got = load_box_annotations(str(p))['7']
    assert got['frames'] == {1: [(1, 2, 0.0, 0.0, 5.0, 5.0)], 2: []}
    assert got['num_objects'] == 1
    assert loader_warnings == [
        f"{p}: video 7: dropped 2 invalid box(es) (non-finite or x2 <= x1 / y2 <= y1), first: "
        "7/0001.jpg object 0 (50.0, 0.0, 10.0, 9.0)"]


# ---------------------------------------------------------------- annotations: EPIC
EPIC_COLS = ['narration_id', 'participant_id', 'video_id', 'narration_timestamp',
             'start_timestamp', 'stop_timestamp', 'start_frame', 'stop_frame', 'narration',
             'verb', 'verb_class', 'noun', 'noun_class', 'all_nouns', 'all_noun_classes']


def _epic_rows(**change):
    rows = []
    for k in range(2):
        r = dict(narration_id=f'P01_01_{k}', participant_id='P01', video_id='P01_01',
                 narration_timestamp='00:00:01.00', start_timestamp='00:00:01.00',
                 stop_timestamp='00:00:02.50', start_frame='61', stop_frame='150',
                 narration='open door', verb='open', verb_class='3', noun='door',
                 noun_class='8', all_nouns="['door']", all_noun_classes='[8]')
        rows.append(r)
    rows[1].update(change)
    return rows


def _epic_csv(tmp, rows=None, cols=EPIC_COLS, text=None, cut=None):
    p = tmp / 'ann.csv'
    if text is None:
        lines = [','.join(cols)] + [
            ','.join(f'"{r[c]}"' if ',' in r[c] else r[c] for c in cols) for r in rows]
        text = '\n'.join(lines) + '\n'
        if cut:
            text = text[:text.rindex('\n', 0, len(text) - 1) + 1 + cut]
    p.write_text(text)
    return p


def _pkl(tmp, obj):
    p = tmp / 'ann.pkl'
    if isinstance(obj, bytes):
        p.write_bytes(obj)
    else:
        with open(p, 'wb') as f:
            pickle.dump(obj, f)
    return p


NO_LABELS = [c for c in EPIC_COLS if c not in ('verb_class', 'noun_class')]
EPIC_ROWS = [
    # (row id, annotation file builder, dataset kwargs, error text with {f}: the file)
    ('csv-without-labels-train', lambda t: _epic_csv(t, _epic_rows(), NO_LABELS), {},
     r"{f}: missing columns \['verb_class', 'noun_class'\]: a training set \(test_mode=False\) "
     r'needs both labels'),
    ('csv-only-verb-class', lambda t: _epic_csv(
        t, _epic_rows(), [c for c in EPIC_COLS if c != 'noun_class']), dict(test_mode=True),
     r"{f}: missing columns \['noun_class'\]: the file has only one of verb_class"),
    ('non-numeric-frame', lambda t: _epic_csv(t, _epic_rows(start_frame='6l')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): start_frame '6l' is not an integer frame "
     r'number >= 1'),
    ('fractional-frame', lambda t: _epic_csv(t, _epic_rows(stop_frame='150.5')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): stop_frame 150\.5 is not an integer frame "
     r'number'),
    ('bad-timestamp', lambda t: _epic_csv(t, _epic_rows(stop_timestamp='00:00:xx')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): stop_timestamp '00:00:xx' is not a "
     r'timestamp'),
    ('start-timestamp-after-stop', lambda t: _epic_csv(
        t, _epic_rows(start_timestamp='00:00:03.00')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): stop_timestamp 00:00:02\.50 < "
     r'start_timestamp 00:00:03\.00'),
    ('stop-frame-before-start', lambda t: _epic_csv(t, _epic_rows(stop_frame='60')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): stop_frame 60 < start_frame 61"),
    ('non-numeric-verb-class', lambda t: _epic_csv(t, _epic_rows(verb_class='open')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): verb_class 'open' is not an integer"),
    ('bad-all-noun-classes', lambda t: _epic_csv(t, _epic_rows(all_noun_classes='[8, x]')), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\): all_noun_classes '\[8, x\]' is not a "
     r'list of integers'),
    ('empty-csv', lambda t: _epic_csv(t, text=''), {}, r'EPIC annotation file {f} is empty'),
    ('header-only-csv', lambda t: _epic_csv(t, text=','.join(EPIC_COLS) + '\n'), {},
     r'EPIC annotation file {f} has no rows'),
    ('cut-off-csv', lambda t: _epic_csv(t, _epic_rows(), cut=40), {},
     r"{f}: line 3 \(narration_id 'P01_01_1'\) has 5 fields, the header has 15 \(cut-off or "
     r'malformed row\)'),
    ('extra-field-csv', lambda t: _epic_csv(
        t, text=_epic_csv(t, _epic_rows()).read_text().replace('[8]\n', '[8],9\n', 1)), {},
     r"{f}: line 2 \(narration_id 'P01_01_0'\) has 16 fields, the header has 15"),
    ('pkl-not-a-dataframe', lambda t: _pkl(t, dict(narration_id=['P01_01_0'])), {},
     r'EPIC annotation file {f} holds a dict, not a pandas DataFrame'),
    ('pkl-garbage', lambda t: _pkl(t, b'not a pickle'), {},
     r'EPIC annotation file {f} does not unpickle: UnpicklingError'),
]


@pytest.mark.parametrize('row', EPIC_ROWS, ids=[r[0] for r in EPIC_ROWS])
def test_epic_annotation_fault_raises_naming_file_and_row(row, tmp_path):
    rid, make, kw, text = row
    f = make(tmp_path)
    with pytest.raises(ValueError, match=text.format(f=re.escape(str(f)))):
        DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=str(f), **kw))


def test_epic_csv_without_labels_is_an_unlabelled_test_set(tmp_path):
    f = _epic_csv(tmp_path, _epic_rows(), NO_LABELS)
    ds = DATASETS.build(dict(type='EpicKitchens100Dataset', ann_file=str(f), test_mode=True))
    assert len(ds) == 2 and 'label' not in ds.get_data_info(0)


# ---------------------------------------------------------------- annotations: SSv2 / S-Else
def _ssv2(tmp, ann=None, labels=None, boxes=None, cut=None):
    files = {}
    default_ann = [dict(id='2', template='Pushing [something]')]
    for name, obj in (('ann', ann if ann is not None else default_ann),
                      ('labels', labels if labels is not None else {'Pushing something': '0'}),
                      ('boxes', boxes if boxes is not None else {'2': [dict(
                          name='2/0001.jpg', labels=[dict(gt_annotation='object 0', box2d=dict(
                              x1=1, y1=2, x2=3, y2=4))])]})):
        p = tmp / f'{name}.json'
        text = obj if isinstance(obj, str) else json.dumps(obj)
        p.write_text(text[:cut] if cut and name == 'boxes' else text)
        files[name] = p
    return files


SSV2_ROWS = [
    # (row id, file builder kwargs, faulty file, error text with {f})
    ('boxes-json-cut-off', dict(cut=60), 'boxes',
     r'box annotation file {f} is not valid JSON: .* \(line 1, column \d+, char \d+ of 60; cut '
     r'off or malformed\?\)'),
    ('boxes-json-not-a-dict', dict(boxes=[1, 2]), 'boxes',
     r'box annotation file {f}: expected a JSON dict at the top level, got list'),
    ('boxes-missing-coordinate', dict(boxes={'2': [dict(name='2/0001.jpg', labels=[dict(
        gt_annotation='object 0', box2d=dict(x1=1, y1=2, x2=3))])]}), 'boxes',
     r"{f}: video 2: frame entry 0 \(2/0001\.jpg\): labels\[0\]\.box2d\.y2: Field required "
     r"\(got \{{'x1': 1, 'y1': 2, 'x2': 3\}}\)"),
    ('boxes-frame-without-name', dict(boxes={'2': [dict(labels=[])]}), 'boxes',
     r"{f}: video 2: frame entry 0: name: Field required \(got \{{'labels': \[\]\}}\)"),
    ('ssv2-json-malformed', dict(ann='[{"id": "2", "template": "Pushing [something]"},]'), 'ann',
     r'SSv2 annotation file {f} is not valid JSON: Expecting value \(line 1, column 49'),
    ('ssv2-entry-without-id', dict(ann=[dict(id='2', template='Pushing [something]'),
                                        dict(template='Pushing [something]')]), 'ann',
     r"{f}: entry 1: id: Field required \(got \{{'template': 'Pushing \[something\]'\}}\)"),
    ('ssv2-empty-list', dict(ann=[]), 'ann', r'SSv2 annotation file {f} has no entries'),
    ('labels-json-empty', dict(labels=''), 'labels', r'SSv2 labels file {f} is empty'),
    ('labels-not-integers', dict(labels={'Pushing something': 'zero'}), 'labels',
     r"{f}: template 'Pushing something': label 'zero' is not an integer$"),
]


@pytest.mark.parametrize('row', SSV2_ROWS, ids=[r[0] for r in SSV2_ROWS])
def test_ssv2_annotation_fault_raises_naming_file_and_row(row, tmp_path):
    rid, kw, which, text = row
    files = _ssv2(tmp_path, **kw)
    with pytest.raises(ValueError, match=text.format(f=re.escape(str(files[which])))):
        DATASETS.build(dict(type='SomethingSomethingV2Dataset', ann_file=str(files['ann']),
                            labels_file=str(files['labels']), boxes_file=str(files['boxes']),
                            modalities=('rgb', 'boxes')))


# ---------------------------------------------------------------- errors name the sample
def _epic_with_bad_frame(tmp):
    rows = _epic_rows()
    f = _epic_csv(tmp, rows)
    d = tmp / 'P01' / 'rgb_frames' / 'P01_01'
    for i in range(61, 151):
        (d / f'frame_{i:010d}.jpg').parent.mkdir(parents=True, exist_ok=True)
        (d / f'frame_{i:010d}.jpg').write_bytes(b'')  # every frame a zero-byte JPEG
    return DATASETS.build(dict(
        type='EpicKitchens100Dataset', ann_file=str(f), modalities=('rgb', ),
        data_prefix=dict(rgb=str(tmp)),
        pipeline=[dict(type='SampleFrames', clip_len=2, frame_interval=1, num_clips=1,
                       test_mode=True), dict(type='LoadRGBFrames')]))


def test_error_in_a_dataloader_worker_names_the_sample(tmp_path):
    ds = _epic_with_bad_frame(tmp_path)
    loader = DataLoader(ds, batch_size=1, num_workers=1, collate_fn=pseudo_collate,
                        sampler=[1])
    with pytest.raises(ValueError) as info:
        next(iter(loader))
    msg = str(info.value)
    assert 'DataLoader worker process 0' in msg
    assert re.search(r"ValueError: sample narration_id='P01_01_1' \(index 1\): cannot decode "
                     rf'image {re.escape(str(tmp_path))}/P01/rgb_frames/P01_01/'
                     r'frame_\d{10}\.jpg: the file is empty \(0 bytes\)', msg), msg


def test_ssv2_probe_error_names_the_video(tmp_path):
    files = _ssv2(tmp_path)
    ds = DATASETS.build(dict(type='SomethingSomethingV2Dataset', ann_file=str(files['ann']),
                             labels_file=str(files['labels']), modalities=('rgb', ),
                             data_prefix=dict(video=str(tmp_path))))
    with pytest.raises(FileNotFoundError, match=re.escape(
            f"sample video_id='2' (index 0): video file not found: {tmp_path}/2.webm")):
        ds[0]


def test_teacher_cache_dataset_names_the_sample(tmp_path):
    from mmdistill_plugin.datasets.teacher_cache_dataset import TeacherCacheDataset

    class Reader:
        views = 1

        def get(self, idx, view):
            return dict(draws={}), {}
    wrapper = object.__new__(TeacherCacheDataset)
    wrapper.dataset, wrapper.reader = _epic_with_bad_frame(tmp_path), Reader()
    with pytest.raises(ValueError, match=r"^sample narration_id='P01_01_0' \(index 0\): "
                                         r'cannot decode image .*: the file is empty'):
        wrapper[0]


@pytest.mark.parametrize('err,expect_type,expect', [
    (KeyError('results has no "frame_inds"'), KeyError, 'S: results has no "frame_inds"'),
    (FileNotFoundError('frame not found: /a.jpg'), FileNotFoundError,
     'S: frame not found: /a.jpg'),
    (UnicodeDecodeError('utf-8', b'\xff', 0, 1, 'invalid start byte'), RuntimeError,
     "S: UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0"),
    (cv2.error('!buf.empty()'), cv2.error, 'S: !buf.empty()'),
])
def test_name_sample_error_keeps_the_type(err, expect_type, expect):
    named = name_sample_error(err, 'S')
    assert isinstance(named, expect_type) and str(named).startswith(expect)
    inner = ValueError("sample video_id='2' (index 0): y")  # already named: kept
    assert name_sample_error(inner, 'S') is inner
