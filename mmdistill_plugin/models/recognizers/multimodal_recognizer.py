"""KARMMA's multimodal recognizer: backbone per modality → tokens → Θ-Average → fusion → head."""
from typing import Dict, Optional, Sequence

import torch
from mmengine.model import BaseModel, ModuleDict

from mmaction.registry import MODELS

Inputs = Dict[str, torch.Tensor]


def to_tokens(feat) -> torch.Tensor:
    """Turn a backbone output into tokens ``[B, k, C]``.

    ``[B, C, T, H, W]`` and ``[B, C, H, W]`` feature maps are flattened over T×H×W (H×W);
    ``[B, k, C]`` token sequences are returned as they are; a tuple/list of outputs uses its last.

    Raises:
        ValueError: for any other rank.
    """
    if isinstance(feat, (list, tuple)):
        feat = feat[-1]
    if feat.dim() in (4, 5):
        return feat.flatten(2).transpose(1, 2)
    if feat.dim() == 3:
        return feat
    raise ValueError(f'cannot turn a backbone output of shape {tuple(feat.shape)} into tokens')


def modality_mask(data_samples, modalities: Sequence[str], key: str, batch_size: int,
                  device) -> torch.Tensor:
    """``[B, M]`` bool mask (True = available) from each sample's metainfo ``key``.

    A sample without ``key`` counts every modality as available.
    """
    rows = []
    for ds in (data_samples or [None] * batch_size):
        info = ds.metainfo.get(key) if ds is not None else None
        rows.append([True if info is None else bool(info.get(m, False)) for m in modalities])
    return torch.tensor(rows, dtype=torch.bool, device=device)


PRETRAINED_INITS = ('Pretrained', 'InflatedPretrained')


def loads_pretrained_weights(backbone) -> bool:
    """Whether ``backbone.init_weights()`` loads a checkpoint: an ``init_cfg`` of type
    ``Pretrained`` / ``InflatedPretrained`` with a checkpoint, or a ``pretrained`` path (MMAction2
    backbones such as ``SwinTransformer3D``, ``ResNet3d`` and ``TimeSformer`` load it
    themselves)."""
    init_cfgs = getattr(backbone, 'init_cfg', None) or []
    init_cfgs = init_cfgs if isinstance(init_cfgs, (list, tuple)) else [init_cfgs]
    if any(c.get('type') in PRETRAINED_INITS and c.get('checkpoint') for c in init_cfgs):
        return True
    pretrained = getattr(backbone, 'pretrained', None)
    return isinstance(pretrained, str) and bool(pretrained)


@MODELS.register_module()
class MultimodalRecognizer(BaseModel):
    """Multimodal action recognizer of KARMMA (Santos-Villafranca et al., §3.2).

    Each modality's backbone (feature extractor, FE) produces tokens ``[B, k_m, C_m]`` (feature
    maps are flattened over T×H×W), the neck (``ThetaAverage``) reduces them to at most Θ, the
    fusion block (``KARMMAFusionBlock``) returns M+1 tokens ``[B, M+1, D]`` (one per modality and
    CLS) and the multi-head MLP averages its M+1 predictions.

    Teacher loss (Eq. 3): ``α·CE + β·InfoNCE`` where α is ``cls_head.loss_cls.loss_weight`` and
    β ``align_loss.loss_weight``; InfoNCE (Eq. 2) aligns each modality's fusion token to the
    ``align_anchor`` (video) token.

    Args:
        modalities (Sequence[str]): Modality names in fusion order, e.g. ``('rgb', 'flow',
            'audio')``; inputs are read from ``inputs[m]``.
        backbones (dict): ``modality -> backbone config`` (any MMAction2/plugin backbone).
        fusion (dict): Fusion block config.
        cls_head (dict): Head config (``MultiHeadMLP``).
        neck (dict, optional): Token reducer applied to every modality (``ThetaAverage``).
        align_loss (dict, optional): ``InfoNCELoss`` config; None disables it (student).
        align_anchor (str): The modality the others are aligned to. Defaults to ``'rgb'``.
        frozen_backbones (bool): Freeze every backbone (teacher): no gradients, eval mode even
            after ``train()``, run under ``torch.no_grad()``.
        allow_random_frozen (bool): With ``frozen_backbones``, ``init_weights()`` raises unless
            every backbone loads pre-trained weights (KARMMA §3.2: the teacher's feature
            extractors are frozen *pre-trained* models; frozen random ones would silently give
            a fusion block random features). True accepts random frozen backbones (toy configs,
            tests). A teacher loaded from its own checkpoint is never ``init_weights()``-ed.
        as_video (Sequence[str]): Modalities whose 4-D input ``[B, C, H, W]`` goes to a video
            backbone as a one-frame clip ``[B, C, 1, H, W]`` (e.g. a spectrogram into Swin3D).
        mask_key (str): Metainfo key of the availability mask: ``'modality_mask'`` (what the
            student may use) or ``'modality_present'`` (what was loaded; used for teachers).
        feature_cache (str, optional): Train from precomputed tokens (``tools/
            extract_features.py``; the train set wrapped in ``FeatureCacheDataset``):
            ``inputs[m]`` is then ``[B, N, k_m, C_m]`` (Θ-Averaged tokens of the frozen
            extractors) and backbones / neck are skipped; they stay in the model (and its
            checkpoint), so the trained teacher is used as a teacher unchanged. Needs
            ``frozen_backbones``; the cache's extractor weights must equal this model's
            (checked when training starts). Only training reads tokens (they are moved to the
            device, not normalised); validation and testing run the backbones on pixels.
        test_cfg (dict, optional): ``drop_modalities=[...]`` hides modalities at test time, e.g.
            ``--cfg-options model.test_cfg.drop_modalities="['flow']"``.
        data_preprocessor (dict, optional): Usually MMAction2's ``MultiModalDataPreprocessor``.

    Input shapes: ``inputs[m]`` is ``[B, N, ...]`` after the data preprocessor (N clips, see
    docs/data_model.md); clips are folded into the batch and their logits averaged.
    """

    def __init__(self,
                 modalities: Sequence[str],
                 backbones: dict,
                 fusion: dict,
                 cls_head: dict,
                 neck: Optional[dict] = None,
                 align_loss: Optional[dict] = None,
                 align_anchor: str = 'rgb',
                 frozen_backbones: bool = False,
                 allow_random_frozen: bool = False,
                 as_video: Sequence[str] = (),
                 mask_key: str = 'modality_mask',
                 feature_cache: Optional[str] = None,
                 train_cfg: Optional[dict] = None,
                 test_cfg: Optional[dict] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.modalities = tuple(modalities)
        missing = [m for m in self.modalities if m not in backbones]
        if missing:
            raise ValueError(f'no backbone configured for modalities {missing}')
        self.backbones = ModuleDict({m: MODELS.build(backbones[m]) for m in self.modalities})
        self.neck = MODELS.build(neck) if neck is not None else None
        self.fusion = MODELS.build(self._fusion_cfg(fusion))
        fusion_order = getattr(self.fusion, 'modalities', None)
        if fusion_order is not None and tuple(fusion_order) != self.modalities:
            # the modality mask is built in self.modalities' order: a fusion block in another
            # order would read "audio missing" as "rgb missing"
            raise ValueError(f'fusion.modalities {tuple(fusion_order)} must be in the order of '
                             f'model.modalities {self.modalities}')
        self.cls_head = MODELS.build(cls_head)
        self.align_loss = MODELS.build(align_loss) if align_loss is not None else None
        if self.align_loss is not None and align_anchor not in self.modalities:
            raise ValueError(f'align_anchor {align_anchor!r} is not one of {self.modalities}')
        self.align_anchor = align_anchor
        self.frozen_backbones = frozen_backbones
        self.allow_random_frozen = allow_random_frozen
        self.as_video = tuple(as_video)
        self.mask_key = mask_key
        self.feature_cache = feature_cache
        self._cache_checked = False
        if feature_cache is not None and not frozen_backbones:
            raise ValueError('feature_cache holds the tokens of FROZEN feature extractors: set '
                             'frozen_backbones=True (trainable extractors must see the pixels)')
        self.train_cfg = train_cfg or {}
        self.test_cfg = test_cfg or {}
        unknown = set(self.test_cfg.get('drop_modalities', [])) - set(self.modalities)
        if unknown:
            raise ValueError(f'test_cfg.drop_modalities has unknown modalities {sorted(unknown)}'
                             f'; the model has {self.modalities}')
        if frozen_backbones:
            for p in self.backbones.parameters():
                p.requires_grad_(False)

    def init_weights(self) -> None:
        """Initialise every part (backbones from their checkpoints where configured).

        Raises:
            ValueError: ``frozen_backbones`` is set, ``allow_random_frozen`` is not, and a
                backbone has no pre-trained weights to load (names the modality and backbone).
        """
        if self.frozen_backbones and not self.allow_random_frozen:
            random = [f'{m} ({type(self.backbones[m]).__name__})' for m in self.modalities
                      if not loads_pretrained_weights(self.backbones[m])]
            if random:
                raise ValueError(
                    f'frozen_backbones=True but the backbones of {", ".join(random)} have no '
                    f'pre-trained weights: training would fit the fusion block to frozen random '
                    f'features. Set model.backbones.<modality>.init_cfg=dict(type=\'Pretrained\''
                    f', checkpoint=..., prefix=\'backbone.\') (InflatedPretrained for non-RGB '
                    f'inputs), or allow_random_frozen=True to train on random frozen features '
                    f'on purpose.')
        super().init_weights()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.frozen_backbones:
            self.backbones.eval()
        if mode and self.feature_cache is not None and not self._cache_checked:
            self.check_feature_cache()
        return self

    def check_feature_cache(self) -> None:
        """Refuse tokens extracted by other frozen extractors (weights compared by SHA-256).

        Raises:
            StaleTeacherCacheError: the cache's extractors are not this model's backbones + neck.
        """
        from mmdistill_plugin.utils.teacher_cache import check_stamp, state_sha256
        parts = [self.backbones] + ([self.neck] if self.neck is not None else [])
        check_stamp(self.feature_cache, 'extractors', dict(weights_sha256=state_sha256(parts)),
                    context='the backbones and neck of this model')
        self._cache_checked = True

    # ------------------------------------------------------------------ features
    def _modality_tokens(self, m: str, x: torch.Tensor) -> torch.Tensor:
        if m in self.as_video and x.dim() == 4:
            x = x.unsqueeze(2)
        if self.frozen_backbones:
            with torch.no_grad():
                feat = self.backbones[m](x)
        else:
            feat = self.backbones[m](x)
        tokens = to_tokens(feat)
        return self.neck(tokens) if self.neck is not None else tokens

    def train_step(self, data, optim_wrapper):
        """``BaseModel.train_step``; with ``feature_cache`` the batch holds tokens, which are
        only moved to the device (no normalisation by the pixel data preprocessor)."""
        if self.feature_cache is None:
            return super().train_step(data, optim_wrapper)
        with optim_wrapper.optim_context(self):
            data = self.data_preprocessor.cast_data(data)
            losses = self._run_forward(data, mode='loss')
        parsed, log_vars = self.parse_losses(losses)
        optim_wrapper.update_params(parsed)
        return log_vars

    def _fusion_cfg(self, fusion: dict) -> dict:
        """The fusion config with ``modalities=self.modalities`` when its class takes that
        argument (:class:`KARMMAFusionBlock`): the modality order must not come from the key
        order of ``in_channels``, which mmengine's ``Config.dump`` sorts (the ``<work_dir>/*.py``
        config of every run is such a dump)."""
        import inspect
        fusion = dict(fusion)
        cls = fusion.get('type')
        cls = MODELS.get(cls) if isinstance(cls, str) else cls
        if cls is not None and 'modalities' in inspect.signature(cls.__init__).parameters:
            fusion.setdefault('modalities', self.modalities)
        return fusion

    def extract_tokens(self, inputs: Inputs, skip: Sequence[str] = ()) -> Dict[str, torch.Tensor]:
        """Each modality's reduced tokens ``dict(m -> [B·N, k_m, C_m])`` (backbone → tokens →
        neck), what ``tools/extract_features.py`` stores for ``feature_cache`` training.

        Modalities in ``skip`` (missing for the whole batch) get zeros of the fusion block's
        token shape instead of running their extractor: the fusion block replaces a missing
        modality's tokens whatever their values, so the result is the same at a fraction of
        the cost (a student deployed without audio never runs its audio extractor).
        """
        out = {}
        for m in self.modalities:
            x = inputs[m].flatten(0, 1)
            if m in skip and hasattr(self.fusion, 'num_tokens'):
                out[m] = x.new_zeros(x.shape[0], self.fusion.num_tokens[m],
                                     self.fusion.in_channels[m])
            else:
                out[m] = self._modality_tokens(m, x)
        return out

    def extract_feat(self, inputs: Inputs, data_samples=None, test_mode: bool = False):
        """Fused tokens ``[B·N, M+1, D]`` and the number of clips N.

        Raises:
            KeyError: naming the modality when ``inputs`` lacks one the model uses.
        """
        fused, _, num_clips = self.fuse(inputs, data_samples, test_mode)
        return fused, num_clips

    def fuse(self, inputs: Inputs, data_samples=None, test_mode: bool = False):
        """``(fused [B·N, M+1, D], valid [B·N, M+1] or None, N)``: ``valid`` marks the fusion
        rows the head averages (fusion strategy ``'ignore'``: present modalities and CLS)."""
        absent = [m for m in self.modalities if m not in inputs]
        if absent:
            raise KeyError(f'inputs lack modalities {absent}; got {sorted(inputs)}. Load them '
                           f'in the data pipeline or remove them from model.modalities.')
        from_tokens = self.feature_cache is not None and not test_mode
        if from_tokens:  # precomputed tokens [B, N, k, C] (or a list of them), training only
            inputs = {m: (torch.stack(list(v)) if isinstance(v, (list, tuple)) else v).float()
                      for m, v in inputs.items() if m in self.modalities}
        first = inputs[self.modalities[0]]
        batch, num_clips = first.shape[:2]
        mask = modality_mask(data_samples, self.modalities, self.mask_key, batch, 'cpu')
        if test_mode:
            for m in self.test_cfg.get('drop_modalities', []):
                mask[:, self.modalities.index(m)] = False
        absent_for_all = [m for i, m in enumerate(self.modalities) if not bool(mask[:, i].any())]
        mask = mask.to(first.device)
        mask = mask.repeat_interleave(num_clips, dim=0)
        if from_tokens:
            tokens = {m: inputs[m].flatten(0, 1) for m in self.modalities}
        else:
            # Outside training, a modality missing for the whole batch is not computed (exact:
            # the fusion ignores its values). Training keeps every extractor in the graph, as
            # DDP expects every parameter to get a gradient.
            skip = absent_for_all if (test_mode or not self.training) else []
            tokens = self.extract_tokens(inputs, skip=skip)
        fused = self.fusion(tokens, mask)
        valid = (self.fusion.output_valid(mask, fused.shape[0], fused.device)
                 if hasattr(self.fusion, 'output_valid') else None)
        return fused, valid, num_clips

    def _head(self, fused, valid):
        return self.cls_head(fused) if valid is None else self.cls_head(fused, valid=valid)

    def forward_logits(self, inputs: Inputs, data_samples=None,
                       test_mode: bool = False) -> Dict[str, torch.Tensor]:
        """Class logits per head, ``dict(name -> [B, num_classes])``, averaged over clips."""
        fused, valid, num_clips = self.fuse(inputs, data_samples, test_mode)
        logits = self._head(fused, valid)
        return {k: v.view(-1, num_clips, v.shape[-1]).mean(1) for k, v in logits.items()}

    # ------------------------------------------------------------------ modes
    def loss_and_logits(self, inputs: Inputs, data_samples):
        """Losses (Eq. 3) and the logits they were computed from (for distillation)."""
        fused, valid, num_clips = self.fuse(inputs, data_samples)
        logits = {k: v.view(-1, num_clips, v.shape[-1]).mean(1)
                  for k, v in self._head(fused, valid).items()}
        losses = self.cls_head.loss_by_feat(logits, data_samples)
        if self.align_loss is not None and len(self.modalities) > 1:
            a = self.modalities.index(self.align_anchor)
            others = [i for i in range(len(self.modalities)) if i != a]
            losses['loss_align'] = self.align_loss(fused[:, a], fused[:, others])
        return losses, logits

    def loss(self, inputs: Inputs, data_samples) -> dict:
        return self.loss_and_logits(inputs, data_samples)[0]

    def predict(self, inputs: Inputs, data_samples):
        logits = self.forward_logits(inputs, data_samples, test_mode=True)
        return self.cls_head.predict_by_feat(logits, data_samples)

    def forward(self, inputs: Inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            return self.forward_logits(inputs, data_samples, test_mode=True)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
