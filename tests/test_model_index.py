"""Model-zoo metadata in MIM's layout: ``model-index.yml`` imports one ``metafile.yml`` per
method; every config and checkpoint a metafile names exists, every config is listed once, and
each method has its page."""
from pathlib import Path

import pytest
import yaml
from mmengine.config.utils import _get_cfg_metainfo

REPO = Path(__file__).resolve().parents[1]
METHODS = ('karmma', 'mm2rgb', 'd3d', 'dmcl', 'mml')


def load(path):
    with open(path) as f:
        return yaml.safe_load(f)


def metafiles():
    index = load(REPO / 'model-index.yml')
    return [REPO / p for p in index['Import']]


def test_index_imports_one_metafile_per_method():
    assert [p.parent.name for p in metafiles()] == list(METHODS)
    for p in metafiles():
        assert p.is_file(), p


@pytest.mark.parametrize('method', METHODS)
def test_metafile_fields_name_what_exists(method):
    meta = load(REPO / 'configs' / method / 'metafile.yml')
    (collection, ) = meta['Collections']
    assert collection['Paper']['Title'] and collection['Paper']['URL'].startswith('https://')
    assert (REPO / collection['README']).is_file()
    names = set()
    for model in meta['Models']:
        assert model['Name'] not in names, f'{model["Name"]} listed twice'
        names.add(model['Name'])
        assert model['In Collection'] == collection['Name']
        # MMEngine's scope lookup reads Config as one string ("configs/<path>"); a list there
        # breaks `pkg::` base configs (as in MMAction2 1.1.0's metafiles, STACK.md)
        assert isinstance(model['Config'], str) and model['Config'].startswith('configs/')
        assert (REPO / model['Config']).is_file(), model['Config']
        assert (REPO / model['README']).is_file()
        for key in ('Weights', 'Converted From'):
            value = model.get(key)
            if isinstance(value, dict):
                value = value.get('Weights')
            if value:  # a published file (URL) or one in the repository
                assert str(value).startswith('https://') or (REPO / value).is_file(), value
        for result in model.get('Results') or []:
            assert result['Dataset'] and result['Metrics'], model['Name']
    listed = {m['Config'] for m in meta['Models']}
    on_disk = {str(p.relative_to(REPO)) for p in (REPO / 'configs' / method).rglob('*.py')}
    assert listed == on_disk, f'configs missing from the metafile: {sorted(on_disk - listed)}'


@pytest.mark.parametrize('method', METHODS)
def test_method_page_has_the_openmmlab_sections(method):
    text = (REPO / 'configs' / method / 'README.md').read_text()
    for heading in ('## Abstract', '## Results and models', '## Deviations from the paper',
                    '## Train and test', '## Citation'):
        assert heading in text, f'{method}/README.md lacks {heading!r}'
    assert '```bibtex' in text and f'docs/reproduce/{method}.md' in text


def test_mmengine_reads_the_index_like_mim():
    """MMEngine's own metafile reader (what ``pkg::name`` lookups use) finds a model by its
    config path relative to configs/."""
    model = _get_cfg_metainfo(str(REPO / 'mmdistill_plugin'), 'karmma/toy/student_epic.py') \
        if (REPO / 'mmdistill_plugin' / '.mim' / 'model-index.yml').is_file() else None
    if model is None:
        pytest.skip('mmdistill_plugin/.mim is made by the install (pip install -e .)')
    assert model['Config'] == 'configs/karmma/toy/student_epic.py'
