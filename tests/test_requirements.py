"""The package's declared requirements install into an existing MMAction2 setup.

``install_requires`` holds ranges only: no exact pins, no torch, no mmcv variant (a user with a
CUDA torch and full mmcv must not get them replaced). The exact set CI installs lives in
``requirements/constraints.txt`` and must satisfy the declared ranges.
"""
import importlib.metadata as metadata
import re

import pytest
from e2e_utils import REPO
from packaging.requirements import Requirement
from packaging.version import Version

MMCV_VARIANTS = {'mmcv', 'mmcv-lite', 'mmcv-full'}


def declared(extra=None):
    """Requirements of the installed distribution, for the base set or one extra."""
    out = []
    for line in metadata.requires('mmdistill_plugin') or []:
        req = Requirement(line)
        if extra is None and req.marker is None:
            out.append(req)
        elif extra is not None and req.marker is not None and \
                req.marker.evaluate({'extra': extra}) and \
                not req.marker.evaluate({'extra': ''}):
            out.append(req)
    return out


def constraints():
    pins = {}
    for line in (REPO / 'requirements/constraints.txt').read_text().splitlines():
        line = line.split('#')[0].strip()
        if line:
            name, version = line.split('==')
            pins[re.sub(r'[-_.]+', '-', name).lower()] = Version(version)
    return pins


def norm(name):
    return re.sub(r'[-_.]+', '-', name).lower()


def test_install_requires_has_ranges_only():
    base = declared()
    names = {norm(r.name) for r in base}
    assert {'mmengine', 'mmaction2', 'numpy'} <= names
    assert 'torch' not in names, 'torch comes from the user\'s setup (or the cpu extra)'
    assert not names & MMCV_VARIANTS, 'no mmcv variant in install_requires'
    for req in base:
        ops = {s.operator for s in req.specifier}
        assert not ops & {'==', '==='}, f'{req} is an exact pin'
    for name in ('mmengine', 'mmaction2', 'numpy'):
        req = next(r for r in base if norm(r.name) == name)
        ops = {s.operator for s in req.specifier}
        assert ops & {'>=', '>'} and ops & {'<', '<='}, f'{req}: give a verified range'


def test_extras_hold_the_mmcv_variants():
    cpu = {norm(r.name): r for r in declared('cpu')}
    mim = {norm(r.name): r for r in declared('mim')}
    assert set(cpu) == {'torch', 'mmcv-lite'} and 'mmcv' in mim
    for req in (cpu['mmcv-lite'], mim['mmcv'], cpu['torch']):
        assert not {s.operator for s in req.specifier} & {'==', '==='}, req
    # MMAction2 1.1 refuses mmcv >= 2.1.0 at import.
    assert Version('2.1.0') not in mim['mmcv'].specifier
    assert Version('2.0.1') in mim['mmcv'].specifier


@pytest.mark.parametrize('extra', [None, 'cpu', 'tests'])
def test_constraints_pin_every_requirement_within_its_range(extra):
    pins = constraints()
    for req in declared(extra):
        name = norm(req.name)
        assert name in pins, f'{name} is not pinned in requirements/constraints.txt'
        assert req.specifier.contains(pins[name], prereleases=True), \
            f'constraints pin {name}=={pins[name]} outside the declared {req}'
