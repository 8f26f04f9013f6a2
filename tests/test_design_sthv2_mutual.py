"""The DMCL / MML benchmark data (benchmarks/reproduce/designs/sthv2_mutual.py) carries the
information its documentation says each modality carries (docs/benchmarks.md ``## DMCL``)."""
import json
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'benchmarks' / 'reproduce'))
from designs import sthv2_mutual as design  # noqa: E402


@pytest.fixture(scope='module')
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp('mutual')
    # corruptions off where a test reads the clean cue; flow and depth frames stay moving
    design.generate(str(out), seed=3, train_per_class=1, val_per_class=1, flow_degraded=0.0,
                    depth_frozen=0.0, depth_hand_lost=0.0, hand_centred=0.0)
    root = out / 'sthv2'
    cues = {c['id']: c for c in json.loads((root / 'annotations/toy_cues.json').read_text())}
    return root, cues


def _flow(root, vid, n):
    x = np.stack([cv2.imread(str(root / f'flow/{vid}/x_{i:05d}.jpg'), 0) for i in range(1, n)])
    y = np.stack([cv2.imread(str(root / f'flow/{vid}/y_{i:05d}.jpg'), 0) for i in range(1, n)])
    return (np.stack([x, y], -1).astype(np.float32) - 127.5) * 40.0 / 255.0   # pixels


def test_layout_labels_and_splits(data):
    root, cues = data
    labels = json.loads((root / 'annotations/labels.json').read_text())
    assert len(labels) == len(design.CLASSES) == 8
    for split in ('train', 'validation'):
        entries = json.loads((root / f'annotations/{split}.json').read_text())
        assert sorted(labels[e['template'].replace('[', '').replace(']', '')]
                      for e in entries) == [str(i) for i in range(8)]
        for e in entries:
            c = cues[e['id']]
            n = c['frames']
            assert len(list((root / 'frames' / e['id']).glob('*.jpg'))) == n
            assert len(list((root / 'depth' / e['id']).glob('*.png'))) == n
            assert len(list((root / 'flow' / e['id']).glob('x_*.jpg'))) == n - 1
            assert (root / 'videos' / f'{e["id"]}.mp4').stat().st_size > 0
            tmpl, direction, action = design.CLASSES[c['label']]
            assert e['template'] == tmpl and c['direction'] == list(direction)
            assert c['action'] == action


def test_flow_carries_the_direction(data):
    root, cues = data
    for vid, c in cues.items():
        f = _flow(root, vid, c['frames'])
        mag = np.linalg.norm(f, axis=-1)
        moving = mag > np.quantile(mag, 0.97)            # the moving region's pixels
        mean = f[moving].mean(0)
        dx, dy = c['direction']
        assert np.sign(mean[0 if dx else 1]) == (dx or dy), (vid, mean, c['direction'])


def test_depth_frozen_repeats_one_frame_and_hand_is_nearest(tmp_path):
    design.generate(str(tmp_path), seed=4, train_per_class=1, val_per_class=0,
                    depth_frozen=1.0, depth_hand_lost=0.0, depth_noise=0.0)
    root = tmp_path / 'sthv2'
    for c in json.loads((root / 'annotations/toy_cues.json').read_text()):
        d = np.stack([cv2.imread(str(root / f'depth/{c["id"]}/{i:05d}.png'), 0)
                      for i in range(1, c['frames'] + 1)]).astype(int)
        assert c['depth_frozen'] and (np.abs(d - d[0]).max() <= 2), c['id']  # PNG is lossless
        assert d.min() <= 75 and np.median(d) >= 195   # hand at 70 (nearest), background 200


def test_push_hand_behind_pull_hand_ahead(data):
    """Depth (noise-free geometry: hand 70, object 120, background 200): the hand's centre sits
    behind the object's along the motion for push, ahead of it for pull."""
    root, cues = data
    for vid, c in cues.items():
        d = cv2.imread(str(root / f'depth/{vid}/00001.png'), 0).astype(np.float32)
        d = cv2.GaussianBlur(d, (0, 0), 1.0)
        yy, xx = np.mgrid[0:d.shape[0], 0:d.shape[1]]
        hand = d < 95
        obj = (d > 100) & (d < 150)
        delta = [xx[hand].mean() - xx[obj].mean(), yy[hand].mean() - yy[obj].mean()]
        along = float(np.dot(delta, c['direction']))
        assert (along < 0) == (c['action'] == 'push'), (vid, along, c['action'])


def test_unknown_knob_is_refused(tmp_path):
    with pytest.raises(KeyError, match='unknown design knobs'):
        design.generate(str(tmp_path), train_per_class=1, val_per_class=0, colour=3)


def test_bayes_ceilings_hand_built():
    clean = dict(flow_degraded=False, hand_centred=False, depth_frozen=False,
                 depth_hand_lost=False, rgb_blurred=False)
    worst = dict(flow_degraded=True, hand_centred=True, depth_frozen=True,
                 depth_hand_lost=True, rgb_blurred=True)
    assert design.bayes_ceilings([clean]) == dict(rgb=1.0, depth=1.0, flow=1.0, any=1.0)
    # every cue gone: rgb still has the direction (its motion), P is a coin flip
    assert design.bayes_ceilings([worst]) == dict(rgb=0.5, depth=0.125, flow=0.125, any=0.5)


def test_suite_refuses_new_data_under_finished_runs(tmp_path):
    """A suite reuses finished runs: data generated by another version of the design must not
    land under them (the stamp names what changed); with no finished run it regenerates."""
    from types import SimpleNamespace
    suite = SimpleNamespace(out=tmp_path, data_dir=tmp_path / 'data', scale='smoke', extra={},
                            run_cmd=lambda cmd, log: (_ for _ in ()).throw(AssertionError(cmd)))
    suite.data_dir.mkdir()
    (suite.data_dir / '.suite_args.json').write_text(json.dumps(dict(
        design_sha256='old', generator_sha256='old', sizes=design.SCALES['smoke'], knobs={})))
    run = tmp_path / 'seed0' / 'dmcl_independent'
    run.mkdir(parents=True)
    (run / 'result.json').write_text('{}')
    with pytest.raises(RuntimeError, match='design_sha256, generator_sha256 changed'):
        design.generate_for_suite(suite)
    (run / 'result.json').unlink()
    with pytest.raises(AssertionError, match='sthv2_mutual.py'):   # would generate
        design.generate_for_suite(suite)
