"""Install the mmdistill MMAction2 plugin (package ``mmdistill_plugin``)."""
import os
import os.path as osp
import shutil
import sys
import warnings
from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

#: shipped inside the package as ``mmdistill_plugin/.mim/<name>``, the OpenMMLab layout that
#: MMEngine (``mmdistill_plugin::`` base configs) and MIM (``mim train mmdistill_plugin``) read
MIM_FILES = ('configs', 'tools', 'demo', 'model-index.yml')
#: runs ``mmdistill_plugin_startup.install()`` at interpreter start (see that module)
STARTUP_PTH = 'mmdistill_plugin-startup.pth'


def read_requirements(path):
    reqs = []
    with open(osp.join(osp.dirname(__file__), path)) as f:
        for line in f:
            line = line.split('#')[0].strip()
            if line and not line.startswith('-r'):
                reqs.append(line)
    return reqs


def get_version():
    scope = {}
    with open(osp.join(osp.dirname(__file__), 'mmdistill_plugin', 'version.py')) as f:
        exec(f.read(), scope)
    return scope['__version__']


def add_mim_extension():
    """Put MIM_FILES into ``mmdistill_plugin/.mim``: copies for a wheel or an sdist, symbolic
    links for an editable install (``pip install -e .``), as MMAction2's and MMDetection's
    ``setup.py`` do."""
    if 'develop' in sys.argv or 'editable_wheel' in sys.argv:
        mode = 'symlink'
    elif 'sdist' in sys.argv or 'bdist_wheel' in sys.argv:
        mode = 'copy'
    else:
        return
    repo = osp.dirname(osp.abspath(__file__))
    mim = osp.join(repo, 'mmdistill_plugin', '.mim')
    os.makedirs(mim, exist_ok=True)
    for name in MIM_FILES:
        src, dst = osp.join(repo, name), osp.join(mim, name)
        if not osp.exists(src):  # building from an sdist: its .mim is already there
            continue
        if osp.islink(dst) or osp.isfile(dst):
            os.remove(dst)
        elif osp.isdir(dst):
            shutil.rmtree(dst)
        if mode == 'symlink':
            try:
                os.symlink(osp.relpath(src, mim), dst)
                continue
            except OSError:
                warnings.warn(f'cannot link {dst} to {src}: copying it')
        if osp.isdir(src):
            shutil.copytree(src, dst, ignore=shutil.ignore_patterns('__pycache__', '*.py[co]'))
        else:
            shutil.copyfile(src, dst)


class BuildPyWithStartup(build_py):
    """``build_py`` that also puts STARTUP_PTH at the root of the wheel (site-packages)."""

    def run(self):
        super().run()
        target = osp.join(self.build_lib, STARTUP_PTH)
        with open(target, 'w') as f:
            f.write('import mmdistill_plugin_startup; mmdistill_plugin_startup.install()\n')


add_mim_extension()
setup(
    name='mmdistill_plugin',
    version=get_version(),
    description='Multimodal knowledge distillation for video action recognition '
                '(MMAction2 plugin): KARMMA, multimodal-to-RGB, DMCL, MML, D3D',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmdistill_plugin', 'mmdistill_plugin.*']),
    py_modules=['mmdistill_plugin_startup'],
    # configs, tools, demo and model-index.yml under mmdistill_plugin/.mim (MANIFEST.in)
    include_package_data=True,
    package_data={'mmdistill_plugin': ['py.typed']},
    cmdclass={'build_py': BuildPyWithStartup},
    # CI installs and tests Python 3.11 only (README); the declared ranges allow 3.9+.
    python_requires='>=3.9',
    # Ranges only (no torch pin, no mmcv variant): the plugin installs into an existing
    # MMAction2 setup. `cpu` adds torch + mmcv-lite, `mim` the compiled mmcv (use `mim install`),
    # `det` MMDetection (over a compiled mmcv: tools/install_det.sh).
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'cpu': read_requirements('requirements/cpu.txt'),
        # MMDetection for tools/data/extract_detections.py; needs mmcv with compiled ops
        # (tools/install_det.sh builds it, then installs this extra's requirements)
        'det': read_requirements('requirements/det.txt'),
        'mim': read_requirements('requirements/mminstall.txt'),
        'tests': read_requirements('requirements/tests.txt'),
    },
    classifiers=[
        'Operating System :: POSIX :: Linux',
        'Programming Language :: Python :: 3.11',
        'Topic :: Scientific/Engineering :: Artificial Intelligence',
    ],
    license='Apache-2.0',
    zip_safe=False,
)
