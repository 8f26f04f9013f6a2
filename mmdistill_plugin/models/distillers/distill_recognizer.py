"""A frozen teacher distils into a trainable student (the "algorithm" of the distillation)."""
import copy
from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import BaseModel, ModuleDict

from mmaction.registry import MODELS
from ..utils import (find_module, load_teacher, preprocess_for, recognizer_logits,
                     set_preprocessor_device, student_loss_and_logits)
from .feature_distill import FeatureDistillation


@MODELS.register_module()
class DistillRecognizer(BaseModel):
    """Student + frozen teacher (KARMMA stage 2, multimodal→RGB, D3D).

    The teacher is built from its own config and loaded from ``teacher_ckpt`` only when a
    distillation loss needs it: when training starts (``train()``) or at the first ``loss``
    (or on ``build_teacher()`` / the first access to ``.teacher``). Testing, exporting and
    analysing a student never build it, so they need the student checkpoint alone. Once built
    it is frozen, kept in eval mode whatever ``train()`` is called with, and run under
    ``torch.no_grad()`` and under the caller's autocast (``--amp``). It is held outside the
    module tree: it is not in ``state_dict()`` (checkpoints hold the student only, so
    ``--resume`` and ``load_from`` concern the student), not in ``parameters()`` (the optimizer
    and DDP never see it), and every device move reaches it: ``_apply`` (``to``, ``cuda``,
    ``cpu``, dtype casts) moves its tensors and ``_set_device`` tells its data preprocessors
    (and a ``LogitEnsemble``'s members'); a teacher built after a move goes to the student's
    device.

    Each model normalises the batch with its own data preprocessor (this model's preprocessor
    only moves data to the device), so teacher and student see the same views with their own
    normalisation. The teacher sees every loaded modality (``modality_present``); the student
    sees ``modality_mask`` (after ``ModalityDropout``).

    Loss (KARMMA Eq. 5): the student's own loss (``γ·CE``: set γ as its head's
    ``loss_cls.loss_weight``) plus each entry of ``distill_losses``
    (e.g. ``loss_kd=dict(type='KLDivergence', tau=1, loss_weight=λ)``) applied to
    (student logits, teacher logits); every term is logged under its own name.
    ``test_step``/``val_step`` use the student.

    Args:
        student (dict): Student config (any MMAction2 recognizer or ``MultimodalRecognizer``).
        teacher (dict): Teacher config (``MultimodalRecognizer``, ``LogitEnsemble``, or any
            MMAction2 recognizer).
        teacher_ckpt (str, optional): Teacher checkpoint. ``None`` only for teachers that load
            their own weights (``LogitEnsemble``) or for tests.
        teacher_ckpt_prefix (str): Key prefix selecting the teacher inside the checkpoint.
        distill_losses (dict): ``name -> loss config`` (names must contain ``loss``), applied to
            (student logits, teacher logits).
        feature_distill (dict, optional): ``name -> FeatureDistillation`` arguments
            (``student_layer``, ``teacher_layer``, ``loss``, ``projection``): distillation at
            intermediate layers, e.g. ``loss_feat=dict(student_layer='backbone.layers.1',
            teacher_layer='backbone.layers.1', projection=dict(in_channels=192,
            out_channels=384))``.
        student_modality / teacher_modality (str, optional): Feed a single-modality model with
            ``inputs[modality]`` (e.g. ``'rgb'`` for an RGB student); ``None`` passes the dict.
        teacher_cache (str, optional): A teacher-output cache (``tools/cache_teacher.py``):
            the teacher's logits come from the data samples (train set wrapped in
            ``TeacherCacheDataset``), no teacher is built or run. Its stamp must match
            ``teacher``/``teacher_ckpt`` (checked when training starts).
        data_preprocessor (dict, optional): Defaults to ``BaseDataPreprocessor`` (device move).

    Raises:
        TeacherCheckpointError: when ``teacher_ckpt`` does not fit ``teacher``.
        StaleTeacherCacheError: a ``teacher_cache`` written with another teacher.
    """

    def __init__(self,
                 student: dict,
                 teacher: dict,
                 teacher_ckpt: Optional[str] = None,
                 teacher_ckpt_prefix: str = '',
                 distill_losses: Optional[dict] = None,
                 feature_distill: Optional[dict] = None,
                 student_modality: Optional[str] = None,
                 teacher_modality: Optional[str] = None,
                 teacher_cache: Optional[str] = None,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        self.student = MODELS.build(student)
        # The teacher is built and loaded only when a distillation loss needs it (first
        # ``train()`` or ``loss``): testing, exporting and analysing a student need the student
        # checkpoint alone. It is then held outside ``_modules``.
        self._teacher_cfg = copy.deepcopy(teacher)
        object.__setattr__(self, '_teacher', None)
        self.teacher_ckpt = teacher_ckpt
        self.teacher_ckpt_prefix = teacher_ckpt_prefix
        self.distill_losses = ModuleDict(
            {name: MODELS.build(cfg) for name, cfg in (distill_losses or {}).items()})
        self.feature_distill = ModuleDict(
            {name: FeatureDistillation(**cfg) for name, cfg in (feature_distill or {}).items()})
        for fd in self.feature_distill.values():
            find_module(self.student, fd.student_layer)  # an unknown student layer fails now
        for name in list(self.distill_losses) + list(self.feature_distill):
            if 'loss' not in name:
                raise ValueError(f'distill loss name {name!r} must contain "loss" so that '
                                 'mmengine adds it to the total loss')
        self.student_modality = student_modality
        self.teacher_modality = teacher_modality
        self.teacher_cache = teacher_cache
        self._cache_checked = False
        if teacher_cache is not None and self.feature_distill:
            raise ValueError('feature_distill needs the teacher\'s intermediate features, '
                             'which a teacher_cache does not hold; use online distillation')

    # ------------------------------------------------------------------ the frozen teacher
    @property
    def teacher_built(self) -> bool:
        """Whether the teacher has been built (and loaded) yet."""
        return self._teacher is not None

    @property
    def teacher(self) -> nn.Module:
        """The frozen teacher, built and loaded from ``teacher_ckpt`` on first access."""
        if self._teacher is None:
            self.build_teacher()
        return self._teacher

    def build_teacher(self) -> nn.Module:
        """Build the teacher from its config, load ``teacher_ckpt`` strictly and freeze it.

        Called on first use (``train()`` or a loss). The teacher is put on the device of the
        student's parameters (and its data preprocessors told so), set to eval mode, given
        ``requires_grad=False``, and its feature-distillation layers are hooked.

        Raises:
            TeacherCheckpointError: when ``teacher_ckpt`` does not fit the teacher config.
            FileNotFoundError: when ``teacher_ckpt`` does not exist.
        """
        if self._teacher is not None:
            return self._teacher
        teacher_model = MODELS.build(copy.deepcopy(self._teacher_cfg))
        if hasattr(teacher_model, 'mask_key'):
            teacher_model.mask_key = 'modality_present'
        if self.teacher_ckpt is not None:
            load_teacher(teacher_model, self.teacher_ckpt, self.teacher_ckpt_prefix)
        teacher_model.requires_grad_(False)
        teacher_model.eval()
        param = next(self.student.parameters(), None)
        if param is not None:
            # ``BaseModel.to`` also records the device on the teacher's data preprocessors.
            teacher_model.to(param.device)
        for fd in self.feature_distill.values():
            fd.attach(self.student, teacher_model)
        # Held outside ``_modules``: no state_dict entry, no optimizer/DDP parameters.
        object.__setattr__(self, '_teacher', teacher_model)
        return teacher_model

    # The teacher lives outside the module tree: every device move reaches it, and it stays
    # in eval mode.
    def _apply(self, fn, *args, **kwargs):
        super()._apply(fn, *args, **kwargs)
        if self._teacher is not None:
            self._teacher._apply(fn, *args, **kwargs)
        return self

    def _set_device(self, device: torch.device) -> None:
        """Record ``device`` on every data preprocessor, the teacher's included.

        mmengine's ``BaseModel.to/cuda/cpu/...`` call this through ``self.apply``, which does
        not reach modules held outside the module tree.
        """
        super()._set_device(device)
        if self._teacher is not None:
            set_preprocessor_device(self._teacher, device)

    def check_teacher_cache(self) -> None:
        """Refuse a cache written by another teacher (config or checkpoint bytes).

        Raises:
            StaleTeacherCacheError: listing what differs.
            FileNotFoundError: ``teacher_cache`` is not a cache directory.
        """
        if self._cache_checked:
            return
        from mmdistill_plugin.utils.teacher_cache import check_stamp, teacher_fingerprint
        check_stamp(self.teacher_cache, 'teacher',
                    teacher_fingerprint(self._teacher_cfg, self.teacher_ckpt),
                    context=f'teacher_ckpt={self.teacher_ckpt}')
        self._cache_checked = True

    def train(self, mode: bool = True):
        super().train(mode)
        if mode and self.teacher_cache is not None:
            self.check_teacher_cache()
        elif mode and (self.distill_losses or self.feature_distill):
            self.build_teacher()  # fail at the start of training, not at the first batch
        if self._teacher is not None:
            self._teacher.eval()
        return self

    @torch.no_grad()
    def teacher_logits(self, inputs, data_samples) -> Dict[str, torch.Tensor]:
        """Logits of the frozen teacher on the batch, with its own preprocessing."""
        t_inputs, t_samples = preprocess_for(self.teacher, inputs, data_samples,
                                             self.teacher_modality, False)
        return recognizer_logits(self.teacher, t_inputs, t_samples, test_mode=False)

    @staticmethod
    def cached_teacher_logits(data_samples) -> Dict[str, torch.Tensor]:
        """Teacher logits replayed from a cache, ``dict(head -> [B, C])`` (float32).

        Raises:
            KeyError: a data sample without ``teacher_logits`` (the train set is not wrapped in
                ``TeacherCacheDataset``).
        """
        if not all('teacher_logits' in ds for ds in data_samples):
            raise KeyError('teacher_cache is set but the batch carries no cached teacher logits: '
                           'wrap the training set in dict(type="TeacherCacheDataset", '
                           'dataset=..., cache=...)')
        heads = data_samples[0].teacher_logits.keys()
        return {h: torch.stack([ds.teacher_logits.get(h) for ds in data_samples]).float()
                for h in heads}

    def loss(self, inputs, data_samples) -> dict:
        if self.teacher_cache is None:
            self.build_teacher()  # no-op once built; hooks the feature-distillation layers
        for fd in self.feature_distill.values():  # (none with a teacher cache)
            fd.recording(True)
        try:
            teacher_logits = (self.cached_teacher_logits(data_samples)
                              if self.teacher_cache is not None else
                              self.teacher_logits(inputs, data_samples))
            s_inputs, s_samples = preprocess_for(self.student, inputs, data_samples,
                                                 self.student_modality, True)
            losses, student_logits = student_loss_and_logits(self.student, s_inputs, s_samples)
        finally:
            for fd in self.feature_distill.values():
                fd.recording(False)
        for name, loss_fn in self.distill_losses.items():
            losses[name] = loss_fn(student_logits, teacher_logits)
        for name, fd in self.feature_distill.items():
            losses[name] = fd()
        return losses

    def predict(self, inputs, data_samples):
        s_inputs, s_samples = preprocess_for(self.student, inputs, data_samples,
                                             self.student_modality, False)
        return self.student.predict(s_inputs, s_samples)

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            s_inputs, s_samples = preprocess_for(self.student, inputs, data_samples,
                                                 self.student_modality, False)
            return recognizer_logits(self.student, s_inputs, s_samples, test_mode=True)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
