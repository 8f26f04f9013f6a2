"""The fault matrix (docs/reliability.md): each bad input or kill either raises an error naming
what is at fault, or yields a documented modality mask / resume point, never silent damage."""
import os
import os.path as osp
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import LabelData
from torch.utils.data import DataLoader

from e2e_utils import REPO, generate_tiny_toy
from tiny_models import tiny_swin
from mmaction.registry import MODELS, TRANSFORMS
from mmaction.structures import ActionDataSample
from mmdistill_plugin.engine import checkpoint_files
from mmdistill_plugin.engine.atomic_local_backend import atomic_write
from mmdistill_plugin.engine.checkpoint_files import (find_resumable_checkpoint,
                                                      is_intact_checkpoint,
                                                      read_last_checkpoint)
from mmdistill_plugin.engine.hooks.label_range_check_hook import (check_labels,
                                                                  classification_heads)
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


def test_sigkill_mid_epoch_then_resume_continues(tmp_path):
    """tools/train.py killed with SIGKILL mid-epoch (after a checkpoint), then a torn next
    checkpoint planted (a kill inside its save, stale last_checkpoint): --resume warns naming
    it and continues from the last intact epoch to the end (~50 s: two tool start-ups)."""
    generate_tiny_toy(tmp_path)
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
        deadline = time.time() + 120
        try:
            while True:
                assert proc.poll() is None, (tmp_path / 'run1.log').read_text()[-3000:]
                assert time.time() < deadline, 'no checkpoint within 120 s'
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
