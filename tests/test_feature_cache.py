"""Cached frozen-extractor tokens: the KARMMA teacher trains its fusion block without backbones."""
import pytest
import torch
from conftest import link_toy
from e2e_utils import REPO
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import OptimWrapper
from test_teacher_cache import _cwd

from mmaction.registry import DATASETS, MODELS
from mmdistill_plugin.datasets.transforms.view import REPLAY_KEY, insert_view_frame_indices
from mmdistill_plugin.utils.teacher_cache import StaleTeacherCacheError, TeacherCacheReader

TEACHER = REPO / 'configs/karmma/toy/teacher_epic.py'
FROZEN = dict(frozen_backbones=True, allow_random_frozen=True)


def _tool():
    import importlib.util
    import sys
    sys.path.insert(0, str(REPO / 'tools'))
    spec = importlib.util.spec_from_file_location('extract_features',
                                                  REPO / 'tools/extract_features.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def frozen_teacher_cfg():
    cfg = Config.fromfile(TEACHER)
    cfg.model.update(FROZEN)
    return cfg


@pytest.fixture(scope='module')
def features(tmp_path_factory, toy_data):
    root = tmp_path_factory.mktemp('feature_cache')
    link_toy(root, toy_data)
    torch.manual_seed(3)
    model = MODELS.build(frozen_teacher_cfg().model)
    ckpt = root / 'teacher.pth'
    torch.save(dict(state_dict=model.state_dict(), meta={}), ckpt)
    with _cwd(root):
        _tool().main([str(TEACHER), '--views', '2', '--out', 'features', '--checkpoint',
                      str(ckpt), '--num-workers', '0', '--batch-size', '4', '--cfg-options',
                      'model.frozen_backbones=True', 'model.allow_random_frozen=True'])
    return root, ckpt, str(root / 'features')


def token_model(ckpt, cache_dir):
    cfg = frozen_teacher_cfg()
    model = MODELS.build(dict(cfg.model, feature_cache=cache_dir))
    model.load_state_dict(torch.load(ckpt, weights_only=False)['state_dict'])
    return model


def test_tokens_give_the_logits_of_the_backbones_on_the_same_view(features):
    root, ckpt, cache_dir = features
    reader = TeacherCacheReader(cache_dir, group='tokens')
    # toy teacher: Θ tokens per modality; 4 × 24 CNN channels (video, flow), 48 (AST audio)
    theta = Config.fromfile(str(REPO / 'configs/_base_/datasets/toy_epic.py')).toy_theta
    assert reader.heads == dict(rgb=[theta, 96], flow=[theta, 96], audio=[theta, 48])
    cfg = frozen_teacher_cfg()
    with _cwd(root):
        cached = DATASETS.build(dict(type='FeatureCacheDataset', cache=cache_dir,
                                     dataset=cfg.train_dataloader.dataset))
        pixels = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=(
            insert_view_frame_indices(cfg.train_dataloader.dataset.pipeline))))
        model = token_model(ckpt, cache_dir).eval()
        seen = []
        for idx, k in ((0, 0), (3, 1), (7, 1)):
            tok = cached.prepare_data(idx, view=k)
            view, _ = reader.get(idx, k)
            info = pixels.get_data_info(idx)
            info[REPLAY_KEY] = view['draws']  # the pixels of the view the tokens came from
            pix = pixels.pipeline(info)
            assert tok['data_samples'].gt_labels.verb == pix['data_samples'].gt_labels.verb
            from_tokens = model.forward_logits(
                **{'inputs': model.data_preprocessor.cast_data(
                    pseudo_collate([tok]))['inputs']},
                data_samples=[tok['data_samples']], test_mode=False)
            data = model.data_preprocessor(pseudo_collate([pix]), False)
            from_pixels = model.forward_logits(data['inputs'], data['data_samples'],
                                               test_mode=True)
            # fp16 tokens vs the backbones in fp32: the difference is rounding, far smaller
            # than the difference between two samples' logits
            err = max(float((from_tokens[h] - from_pixels[h]).abs().max())
                      for h in ('verb', 'noun'))
            scale = max(float(from_pixels[h].abs().max()) for h in ('verb', 'noun'))
            assert err <= 1e-2 * max(1.0, scale), (err, scale)
            assert all(float((from_tokens['verb'] - s).abs().max()) > 10 * err for s in seen)
            seen.append(from_tokens['verb'])


def test_train_step_from_tokens_updates_fusion_not_extractors(features):
    root, ckpt, cache_dir = features
    cfg = frozen_teacher_cfg()
    with _cwd(root):
        cached = DATASETS.build(dict(type='FeatureCacheDataset', cache=cache_dir,
                                     dataset=cfg.train_dataloader.dataset))
        batch = pseudo_collate([cached[i] for i in range(4)])
    model = token_model(ckpt, cache_dir).train()
    calls = []
    for m in model.backbones.values():
        m.register_forward_hook(lambda *a: calls.append(1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    wrapper = OptimWrapper(torch.optim.SGD([p for p in model.parameters() if p.requires_grad],
                                           lr=0.5))
    log = model.train_step(batch, wrapper)
    assert torch.isfinite(log['loss']) and not calls  # no backbone ran
    after = model.state_dict()
    changed = {k for k in before if not torch.equal(before[k], after[k])}
    assert any(k.startswith('fusion.') for k in changed)
    assert not any(k.startswith('backbones.') for k in changed)


def test_cache_of_other_extractors_is_refused(features):
    root, ckpt, cache_dir = features
    cfg = frozen_teacher_cfg()
    torch.manual_seed(99)
    other = MODELS.build(dict(cfg.model, feature_cache=cache_dir))  # other random extractors
    with pytest.raises(StaleTeacherCacheError, match='weights_sha256'):
        other.train()
    with pytest.raises(ValueError, match='frozen_backbones=True'):
        MODELS.build(dict(cfg.model, frozen_backbones=False, feature_cache=cache_dir))
    token_model(ckpt, cache_dir).train()  # the extractors the cache was written with
