"""A wheel install carries configs/, tools/, demo/ and model-index.yml the OpenMMLab way
(``mmdistill_plugin/.mim/``), and a config outside the repository inherits ours by package scope.

One test (marker ``packaging``, ``python -m pytest tests -m packaging``): it builds the wheel from
a copy of the source tree, installs it with ``--no-deps`` into a scratch virtual environment that
reuses this environment's packages (offline), then, from a folder outside the repository,

* trains one toy epoch of a config whose ``_base_`` is
  ``mmdistill_plugin::karmma/toy/student_epic.py`` with **MMAction2's own** ``tools/train.py``
  (the ``.pth`` of the wheel registers the scope before the config is parsed), and
* tests the checkpoint with the wheel's ``mmdistill_plugin/.mim/tools/test.py`` (what
  ``mim test mmdistill_plugin CONFIG --checkpoint ...`` runs).
"""
import os
import shutil
import site
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

REPO = Path(__file__).resolve().parents[1]
#: not copied to build the wheel: outputs and environments (top level), caches (anywhere)
TOP_LEVEL_SKIP = {'.git', 'work_dirs', 'data', 'build', 'dist', '.pytest_cache'}
SKIP = shutil.ignore_patterns('__pycache__', '*.egg-info', '.mim', '.venv*')


def copy_ignore(folder, names):
    top = TOP_LEVEL_SKIP if Path(folder) == REPO else set()
    return set(SKIP(folder, names)) | (top & set(names))


MMACTION_TRAIN = Path(__import__('mmaction').__file__).parent / '.mim' / 'tools' / 'train.py'

OUTSIDE_CONFIG = """\
# A user's config in their own project: inherits the plugin's toy KARMMA student by package scope.
_base_ = ['mmdistill_plugin::karmma/toy/student_epic.py']
model = dict(teacher_ckpt='teacher.pth')
train_cfg = dict(max_epochs=1, val_interval=1)
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False)
val_dataloader = dict(num_workers=0)
test_dataloader = dict(num_workers=0)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
"""


def run(cmd, cwd, env, timeout=600):
    proc = subprocess.run([str(c) for c in cmd], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, f'{cmd} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc


@pytest.mark.packaging
def test_wheel_install_inherits_configs_by_package_scope(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'PIP_CONSTRAINT')}
    env.update(OMP_NUM_THREADS='1', PIP_NO_INDEX='1', PIP_DISABLE_PIP_VERSION_CHECK='1')

    # 1. the wheel, built from a copy of the source tree (the build writes build/ and .mim/)
    src = tmp_path / 'src'
    shutil.copytree(REPO, src, ignore=copy_ignore, symlinks=True)
    run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q',
         '-w', tmp_path / 'wheel', src], tmp_path, env)
    wheel = next((tmp_path / 'wheel').glob('mmdistill_plugin-*.whl'))
    names = zipfile.ZipFile(wheel).namelist()
    mim = 'mmdistill_plugin/.mim/'
    tracked = [p for p in (REPO / 'configs').rglob('*') if p.is_file()]
    assert sum(n.startswith(mim + 'configs/') for n in names) == len(tracked)
    for f in ('tools/train.py', 'tools/test.py', 'tools/dist_train.sh', 'tools/export_student.py',
              'model-index.yml', 'configs/karmma/metafile.yml', 'demo/demo_rgb.py'):
        assert mim + f in names, f
    assert 'mmdistill_plugin/py.typed' in names and 'mmdistill_plugin-startup.pth' in names
    assert not any('__pycache__' in n for n in names)

    # 2. a scratch venv that sees this environment's packages (torch, MMAction2, ...), not the
    # plugin's source tree: only the wheel provides mmdistill_plugin there
    venv = tmp_path / 'venv'
    run([sys.executable, '-m', 'venv', '--without-pip', venv], tmp_path, env)
    python = venv / 'bin' / 'python'
    purelib = 'import sysconfig; print(sysconfig.get_path("purelib"))'
    scratch_site = Path(run([python, '-c', purelib], tmp_path, env).stdout.strip())
    (scratch_site / 'zz_parent_env.pth').write_text('\n'.join(site.getsitepackages()) + '\n')
    run([python, '-m', 'pip', 'install', '--no-deps', '-q', wheel], tmp_path, env)
    where = 'import importlib.util as u; print(u.find_spec("mmdistill_plugin").origin)'
    pkg = Path(run([python, '-c', where], tmp_path, env).stdout.strip()).parent
    assert pkg == scratch_site / 'mmdistill_plugin'
    assert (pkg / '.mim' / 'configs' / 'karmma' / 'toy' / 'student_epic.py').is_file()

    # 3. a user's project outside the repository: toy data, a random toy teacher, the config
    project = tmp_path / 'project'
    project.mkdir()
    run([python, pkg / '.mim' / 'tools' / 'data' / 'generate_toy_dataset.py', '--out-dir',
         'data/toy', '--scale', 'tiny', '--seed', '0', '--num-workers', '1', '--datasets',
         'epic'], project, env)
    (project / 'my_student.py').write_text(OUTSIDE_CONFIG)
    from mmaction.registry import MODELS
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(
        str(REPO / 'configs/karmma/toy/student_epic.py')).model.teacher)
    torch.save(dict(state_dict=model.state_dict()), project / 'teacher.pth')

    # MMAction2's own tools/train.py: the scope resolves through the wheel's .pth
    run([python, MMACTION_TRAIN, 'my_student.py', '--work-dir', 'wd'], project, env)
    dumped = Config.fromfile(str(project / 'wd' / 'my_student.py'))
    assert dumped.model.type == 'DistillRecognizer' and dumped.train_cfg.max_epochs == 1
    ckpt = project / 'wd' / 'epoch_1.pth'
    assert ckpt.is_file()
    # what `mim test mmdistill_plugin my_student.py --checkpoint ...` runs
    proc = run([python, pkg / '.mim' / 'tools' / 'test.py', 'my_student.py', ckpt, '--work-dir',
                'wd_test'], project, env)
    assert 'action_top1' in proc.stdout + proc.stderr


def test_scoped_base_config_resolves_and_builds(tmp_path, monkeypatch):
    """In this (editable) install: a config outside the repository inherits ours by package
    scope; its components carry ``_scope_='mmdistill_plugin'`` and build from the registries of
    that scope (children of MMAction2's), with no fallback warning."""
    import mmengine.logging
    from mmengine.config.utils import MODULE2PACKAGE
    from mmengine.registry import DefaultScope

    import mmdistill_plugin.registry as scope_registry
    from mmaction.registry import MODELS
    assert MODULE2PACKAGE['mmdistill_plugin'] == 'mmdistill_plugin'
    (tmp_path / 'my_student.py').write_text(
        "_base_ = ['mmdistill_plugin::karmma/toy/student_epic.py']\n"
        "model = dict(student=dict(fusion=dict(strategy='B2')))\n")
    monkeypatch.chdir(tmp_path)
    cfg = Config.fromfile('my_student.py')
    assert cfg.model.type == 'DistillRecognizer' and cfg.model.student.fusion.strategy == 'B2'
    assert cfg.model['_scope_'] == 'mmdistill_plugin'  # MMEngine: on the outer components
    logs = []
    monkeypatch.setattr(mmengine.logging, 'print_log', lambda msg, *a, **k: logs.append(msg))
    with DefaultScope.overwrite_default_scope('mmaction'):
        model = MODELS.build(cfg.model)  # the teacher is built when training starts
    assert type(model).__name__ == 'DistillRecognizer'
    assert model.student.fusion.strategy == 'B2'
    assert not [m for m in logs if 'Failed' in m], logs
    assert MODELS._get_root_registry()._search_child('mmdistill_plugin') is scope_registry.MODELS
