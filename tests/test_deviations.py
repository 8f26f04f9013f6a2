"""Every method's README lists where its configs depart from the paper ("## Deviations from the
paper"), and every row's key carries a ``deviation`` comment in the config it names; the paper
settings whose code default differs are written in the configs."""
import re

import pytest
from conftest import REPO

METHODS = ('karmma', 'mm2rgb', 'dmcl', 'mml', 'd3d')
HEADING = '## Deviations from the paper'


def deviation_rows(method):
    """``(config, key)`` of every row of the method's deviations table."""
    text = (REPO / 'configs' / method / 'README.md').read_text()
    assert HEADING in text, f'configs/{method}/README.md has no "{HEADING}" section'
    section = text.split(HEADING, 1)[1].split('\n## ', 1)[0]
    rows = [line for line in section.splitlines() if line.startswith('|')]
    header = [c.strip().lower() for c in rows[0].strip('|').split('|')]
    assert header[:2] == ['config', 'key'] and len(header) == 6, header
    out = []
    for line in rows[2:]:  # past the header and the |---| line
        cells = [c.strip() for c in line.strip('|').split('|')]
        assert len(cells) == len(header), (method, line)
        config = re.match(r'`([^`]+)`', cells[0]).group(1)
        key = re.match(r'`([^`]+)`', cells[1]).group(1)
        out.append((config, key))
    return out


def has_deviation_comment(lines, key):
    """Whether a line whose code names ``key`` has a comment saying ``deviation`` on it or in
    the comment lines right above it."""
    for i, line in enumerate(lines):
        code, _, comment = line.partition('#')
        if not re.search(rf'(?<![\w.]){re.escape(key)}(?!\w)', code):
            continue
        comments = [comment]
        j = i - 1
        while j >= 0 and lines[j].lstrip().startswith('#'):
            comments.append(lines[j])
            j -= 1
        if any('deviation' in c.lower() for c in comments):
            return True
    return False


@pytest.mark.parametrize('method', METHODS)
def test_each_listed_deviation_is_commented_at_its_key(method):
    rows = deviation_rows(method)
    assert rows, f'configs/{method}/README.md: an empty deviations table'
    for config, key in rows:
        path = REPO / 'configs' / config
        assert path.is_file(), f'{method}: the table names {config}, which does not exist'
        lines = path.read_text().splitlines()
        assert has_deviation_comment(lines, key), \
            f'{config}: no "deviation" comment at {key!r} ({method} README lists it)'


def test_the_checker_finds_only_commented_keys():
    lines = ['x = 1', '# deviation: because', 'flow_member = 2', 'depth_member = 3  # ours',
             'y = dict(t=4)  # Deviation: t']
    assert has_deviation_comment(lines, 'flow_member')
    assert not has_deviation_comment(lines, 'depth_member')
    assert has_deviation_comment(lines, 't')
    assert not has_deviation_comment(lines, 'member')  # a whole name, not a part of one


# Paper settings whose code default differs: the config must write them (config, text).
EXPLICIT = [
    ('d3d/student_sthv2.py', "reduction='batchmean'"),      # LogitMSE's default is 'mean'
    ('d3d/student_sthv2.py', 'loss_weight=lambda_d3d'),       # λ = 1 (Eq. 1)
    ('_base_/models/dmcl_r2plus1d.py', "type='DMCLLoss', T=2.0, lam=0.5"),
    ('mm2rgb/student_rgb_flow_boxes_sthv2.py', "weighting='mean'"),
    ('mm2rgb/student_rgb_flow_boxes_sthv2.py', 'tau=tau'),
    ('_base_/models/dmcl_r2plus1d.py', "average_clips='score'"),
    ('_base_/models/mml_tsm_r50.py', "average_clips='score'"),
    ('_base_/models/d3d_r2plus1d_sthv2.py', "average_clips='prob'"),
    ('_base_/datasets/dmcl_frames.py', 'num_clips=num_test_clips'),
]


@pytest.mark.parametrize('config, text', EXPLICIT)
def test_paper_settings_are_written_not_left_to_code_defaults(config, text):
    assert text in (REPO / 'configs' / config).read_text(), (config, text)
