"""From a trained (here: random) student to a prediction on a real video, MMAction2 style.

* An RGB student exported by ``tools/export_student.py`` runs through MMAction2's
  ``init_recognizer`` / ``inference_recognizer`` (the calls of MMAction2's ``demo/demo.py``) on
  MMAction2's ``demo/demo.mp4`` and gives the scores ``tools/test.py`` gives on the same clip;
  ``demo/demo_rgb.py`` prints its top-k with the class names the export wrote.
* ``demo/demo_multimodal.py`` runs a KARMMA student on the same raw video: RGB from the video,
  flow computed by ``tools/data/extract_flow.py``, audio missing (``demo.mp4`` has no audio
  track), and says which modalities it used.
"""
import importlib.util
import pickle
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import link_toy, require_shared_data
from e2e_utils import tools_test_in_process
from mmengine.config import Config

from mmaction.registry import MODELS

REPO = Path(__file__).resolve().parents[1]
DEMO_MP4 = Path('mmaction2') / 'main' / 'demo' / 'demo.mp4'


def load_script(path, name):
    spec = importlib.util.spec_from_file_location(name, REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def demo_mp4():
    return require_shared_data() / DEMO_MP4


@pytest.fixture(scope='module')
def toy_root(tmp_path_factory, toy_data_sthv2_64):
    """The tiny toy SSv2 (64 px) and EPIC sets (class names, annotation lists), as ``data/toy``
    (the session's, read-only)."""
    return link_toy(tmp_path_factory.mktemp('toy_project'), toy_data_sthv2_64)


def random_distill_checkpoint(cfg, path, seed=0):
    """A distillation checkpoint of ``cfg`` with a randomly initialised student (no teacher
    weights: testing and exporting a student never need them)."""
    torch.manual_seed(seed)
    student = MODELS.build(cfg.model.student)
    torch.save(dict(state_dict={f'student.{k}': v for k, v in student.state_dict().items()},
                    meta=dict(epoch=1)), path)


def test_exported_rgb_student_inference_matches_tools_test(
        toy_root, demo_mp4, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(toy_root)
    config = REPO / 'configs' / 'mm2rgb' / 'toy' / 'student_rgb_flow_sthv2.py'
    cfg = Config.fromfile(str(config))
    ckpt = tmp_path / 'epoch_1.pth'
    random_distill_checkpoint(cfg, ckpt)
    export = load_script('tools/export_student.py', 'export_student_for_demo')
    out, out_cfg = tmp_path / 'deploy' / 'student.pth', tmp_path / 'deploy' / 'student_cfg.py'
    export.main([str(config), str(ckpt), '--out', str(out), '--student-config-out', str(out_cfg),
                 '--cfg-options', 'test_dataloader.batch_size=1'])

    plain = Config.fromfile(str(out_cfg))
    # what MMAction2's inference API reads: a top-level test_pipeline for a video file
    assert [t['type'] for t in plain.test_pipeline] == [
        'DecordInit', 'UniformSample', 'DecordDecode', 'Resize', 'FormatShape',
        'PackActionInputs']
    assert plain.test_dataloader.batch_size == 1  # --cfg-options reached the export
    names = [line.strip() for line in
             (tmp_path / 'deploy' / 'student_cfg_label_map.txt').read_text().splitlines()]
    assert len(names) == 6 and names == list(plain.test_dataloader.dataset.metainfo.classes)
    assert not [k for k in plain if k.startswith('toy_') or k.endswith('_pipeline')
                and k != 'test_pipeline'], 'config-file variables left in the export'

    # MMAction2's demo/demo.py calls
    from mmaction.apis import inference_recognizer, init_recognizer
    demo_rgb = load_script('demo/demo_rgb.py', 'demo_rgb')
    model = init_recognizer(plain, str(out), device='cpu')
    scores = demo_rgb.pred_scores(inference_recognizer(model, str(demo_mp4))).float()
    assert scores.shape == (6, ) and torch.isclose(scores.sum(), torch.tensor(1.0))

    # tools/test.py (in-process: e2e_utils) on a one-video list holding the same clip
    (tmp_path / 'demo_list.txt').write_text(f'{demo_mp4.name} 0\n')
    dump = tmp_path / 'preds.pkl'
    tools_test_in_process(
        [out_cfg, out, '--work-dir', tmp_path / 'work', '--dump', dump, '--cfg-options',
         f'test_dataloader.dataset.ann_file={tmp_path / "demo_list.txt"}',
         f'test_dataloader.dataset.data_prefix.video={demo_mp4.parent}'], cwd=tmp_path)
    with open(dump, 'rb') as f:
        (entry, ) = pickle.load(f)
    tested = entry.get('pred_scores', {}).get('item', entry.get('pred_score'))
    torch.testing.assert_close(torch.as_tensor(tested).float(), scores, atol=1e-6, rtol=1e-5)

    # demo/demo_rgb.py prints the top-k with the names the export wrote
    capsys.readouterr()
    printed = demo_rgb.main([str(out_cfg), str(out), str(demo_mp4), '--topk', '3'])
    lines = capsys.readouterr().out.strip().splitlines()
    torch.testing.assert_close(printed, scores)
    lines = lines[lines.index('The top-3 labels with corresponding scores are:'):]
    best = scores.argsort(descending=True)[:3].tolist()
    assert [line.split(': ')[0] for line in lines[1:]] == [names[i] for i in best]


def test_multimodal_demo_on_a_raw_video(toy_root, demo_mp4, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(toy_root)
    config = REPO / 'configs' / 'karmma' / 'toy' / 'student_epic.py'
    cfg = Config.fromfile(str(config))
    ckpt = tmp_path / 'epoch_1.pth'
    random_distill_checkpoint(cfg, ckpt)
    demo = load_script('demo/demo_multimodal.py', 'demo_multimodal')
    args = [str(config), str(ckpt), str(demo_mp4), '--topk', '2', '--flow-algorithm',
            'farneback', '--flow-short-side', '64']
    result, report, used = demo.main(args)
    out = capsys.readouterr().out
    assert used == ['rgb', 'flow'] and 'modalities used: rgb, flow' in out
    assert report['audio'].startswith('missing: no audio track')
    assert 'farneback optical flow of 8 frame pair(s)' in report['flow']
    assert result.modality_mask == dict(rgb=True, flow=True, audio=False)
    verbs = [line.split(',')[1] for line in
             (toy_root / 'data/toy/epic/annotations/EPIC_100_verb_classes.csv')
             .read_text().splitlines()[1:]]
    verb_scores = result.pred_scores.verb
    assert f'  {verbs[int(verb_scores.argmax())]}: ' in out.split('top-2 verb:')[1]
    assert 'top-2 noun:' in out

    # the flow the demo computed is used: without it the scores change, and an absent
    # modality's zeros are never read (the audio tokens come from the missing-modality path)
    no_flow, report2, used2 = demo.main(args + ['--drop', 'flow'])
    assert used2 == ['rgb'] and report2['flow'] == 'missing: left out on request (--drop)'
    assert not torch.allclose(no_flow.pred_scores.verb, verb_scores)
    from mmdistill_plugin.apis import prepare_video_sample
    sample, _ = prepare_video_sample(cfg, str(demo_mp4), str(tmp_path / 'work'),
                                     flow_algorithm='farneback', flow_short_side=64)
    flow_files = sorted((tmp_path / 'work' / 'flow').glob('x_*.jpg'))
    assert len(flow_files) == 8
    assert np.abs(sample['inputs']['flow'].float() - 128).max() > 10  # real motion, not zeros


def test_multimodal_recognizer_follows_the_device(toy_root, monkeypatch):
    """``init_multimodal_recognizer(device=...)`` moves the weights and every data
    preprocessor (they cast the inputs) to the device (``meta`` stands in for CUDA)."""
    from mmdistill_plugin.apis import init_multimodal_recognizer
    monkeypatch.chdir(toy_root)
    cfg = Config.fromfile(str(REPO / 'configs' / 'karmma' / 'toy' / 'student_epic.py'))
    model = init_multimodal_recognizer(cfg, None, device='meta')
    assert {p.device.type for p in model.parameters()} == {'meta'}
    devices = {str(m._device) for m in model.modules() if hasattr(m, '_device')}
    assert devices == {'meta'}, devices
    assert not model.training and model.cfg is cfg


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason='needs CUDA')
def test_multimodal_demo_on_cuda_matches_cpu(toy_root, demo_mp4, tmp_path, monkeypatch):
    from mmdistill_plugin.apis import inference_multimodal_recognizer, init_multimodal_recognizer
    monkeypatch.chdir(toy_root)
    cfg = Config.fromfile(str(REPO / 'configs' / 'karmma' / 'toy' / 'student_epic.py'))
    ckpt = tmp_path / 'epoch_1.pth'
    random_distill_checkpoint(cfg, ckpt)
    scores = {}
    for device in ('cpu', 'cuda'):
        model = init_multimodal_recognizer(cfg, str(ckpt), device=device)
        result, _ = inference_multimodal_recognizer(model, str(demo_mp4),
                                                    flow_algorithm='farneback',
                                                    flow_short_side=64)
        scores[device] = result.pred_scores.verb.cpu()
    torch.testing.assert_close(scores['cuda'], scores['cpu'], atol=1e-4, rtol=1e-3)
