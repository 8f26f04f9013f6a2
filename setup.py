"""Install the mmdistill MMAction2 plugin (package ``mmdistill_plugin``)."""
import os.path as osp

from setuptools import find_packages, setup


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


setup(
    name='mmdistill_plugin',
    version=get_version(),
    description='Multimodal knowledge distillation for video action recognition '
                '(MMAction2 plugin): KARMMA, multimodal-to-RGB, DMCL, MML, D3D',
    long_description=open('README.md').read() if osp.exists('README.md') else '',
    long_description_content_type='text/markdown',
    packages=find_packages(include=['mmdistill_plugin', 'mmdistill_plugin.*']),
    # CI installs and tests Python 3.11 only (README); the declared ranges allow 3.9+.
    python_requires='>=3.9',
    # Ranges only (no torch pin, no mmcv variant): the plugin installs into an existing
    # MMAction2 setup. `cpu` adds torch + mmcv-lite, `mim` the compiled mmcv (use `mim install`).
    install_requires=read_requirements('requirements/runtime.txt'),
    extras_require={
        'cpu': read_requirements('requirements/cpu.txt'),
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
