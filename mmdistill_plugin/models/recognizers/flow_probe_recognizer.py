"""D3D's flow probe: decode optical flow from a recognizer's intermediate features (§3.1-3.2)."""
from typing import Optional

import torch
from mmengine.model import BaseModel

from mmaction.registry import MODELS
from ..heads.flow_decoder_probe import dequantise_flow, epe, flow_from_prediction
from ..utils import find_module, load_teacher

MODES = ('frozen', 'finetune')


class _FeatureCaptured(Exception):
    """Raised by the forward hook to stop the recognizer once the probed feature exists."""

    def __init__(self, feature):
        super().__init__()
        self.feature = feature


@MODELS.register_module()
class FlowProbeRecognizer(BaseModel):
    """Train a :class:`FlowDecoderProbe` on a recognizer's features and measure EPE (D3D §3).

    The output of ``feature_layer`` (a module name of the recognizer, e.g.
    ``'backbone.layer2'`` for a ResNet3d or ``'backbone.layers.1'`` for Swin3D with
    ``channels_last=True``) is taken with a forward hook; the recognizer stops there. The
    decoder predicts ``(mag, sin θ, cos θ)`` per frame at the flow's resolution, trained with
    the magnitude-weighted squared error (``loss_mag + loss_sin + loss_cos``, see
    :func:`flow_probe_loss`); ``predict`` writes each sample's end-point error (pixels, mean over
    clips, frames and pixels) as ``pred_epe`` for :class:`EPEMetric`.

    Modes (D3D §3.2): ``'frozen'`` — the recognizer is frozen (no gradients, eval mode even
    after ``train()``, run under ``torch.no_grad()``; only the decoder learns: what motion the
    features hold); ``'finetune'`` — recognizer and decoder train end to end (layers after
    ``feature_layer`` get no gradient: under DDP set
    ``model_wrapper_cfg=dict(type='MMDistributedDataParallel', find_unused_parameters=True)``).

    Inputs (``inputs`` dict, collated lists or stacked): ``inputs[rgb_modality]``
    ``[B, N, 3, T, H, W]`` goes through the recognizer's OWN data preprocessor;
    ``inputs[flow_modality]`` ``[B, N, 2, T, H, W]`` is the uint8-quantised target flow of
    docs/data_model.md, dequantised with ``flow_bound`` b: ``f = q·2b/255 − b`` (pixels).
    When the feature map has fewer frames T' than the flow, frame t' is compared with the flow
    frame ``⌊(t' + ½)·T/T'⌋`` (the middle of the frames it covers). Samples whose metainfo
    ``modality_present[flow_modality]`` is False are left out of the loss and get
    ``pred_epe = nan`` (EPEMetric skips them).

    Config example::

        model = dict(
            type='FlowProbeRecognizer',
            recognizer=dict(type='Recognizer3D', backbone=..., cls_head=...,
                            data_preprocessor=dict(type='ActionDataPreprocessor', ...)),
            checkpoint='work_dirs/d3d_student/best.pth', checkpoint_prefix='student.',
            feature_layer='backbone.layer2',
            decoder=dict(type='FlowDecoderProbe', in_channels=128),
            mode='frozen', flow_bound=20.0)
        val_evaluator = dict(type='EPEMetric')

    Args:
        recognizer (dict): Recognizer config with its own ``data_preprocessor``; its
            ``extract_feat`` must take the rgb tensor (Recognizer3D and the like).
        decoder (dict): ``FlowDecoderProbe`` config (``in_channels`` = the feature channels).
        feature_layer (str): Module name inside the recognizer.
        checkpoint (str, optional): Recognizer checkpoint (file or work dir), loaded strictly.
        checkpoint_prefix (str): e.g. ``'student.'`` for a distillation checkpoint.
        mode (str): ``'frozen'`` or ``'finetune'``.
        flow_bound (float): Quantisation bound b of the flow, pixels. Defaults to 20.
        channels_last (bool): The layer outputs ``[B, T, H, W, C]`` (Swin3D's stages).
        rgb_modality / flow_modality (str): Input keys.
        data_preprocessor (dict, optional): Defaults to ``BaseDataPreprocessor`` (device move).

    Raises:
        KeyError: unknown ``feature_layer`` (with close candidates) or a missing input modality.
        ValueError: unknown ``mode``, or a feature that is not 5-D.
        TeacherCheckpointError: the checkpoint does not fit the recognizer config.
    """

    def __init__(self,
                 recognizer: dict,
                 decoder: dict,
                 feature_layer: str,
                 checkpoint: Optional[str] = None,
                 checkpoint_prefix: str = '',
                 mode: str = 'frozen',
                 flow_bound: float = 20.0,
                 channels_last: bool = False,
                 rgb_modality: str = 'rgb',
                 flow_modality: str = 'flow',
                 data_preprocessor: Optional[dict] = None,
                 init_cfg=None) -> None:
        if data_preprocessor is None:
            data_preprocessor = dict(type='BaseDataPreprocessor')
        super().__init__(data_preprocessor=data_preprocessor, init_cfg=init_cfg)
        if mode not in MODES:
            raise ValueError(f'mode must be one of {MODES}, got {mode!r}')
        self.recognizer = MODELS.build(recognizer)
        self.feature_layer = feature_layer
        find_module(self.recognizer, feature_layer)  # fail at build time
        self.checkpoint = checkpoint
        if checkpoint is not None:
            load_teacher(self.recognizer, checkpoint, checkpoint_prefix)
        self.decoder = MODELS.build(decoder)
        self.mode = mode
        self.flow_bound = flow_bound
        self.channels_last = channels_last
        self.rgb_modality = rgb_modality
        self.flow_modality = flow_modality
        if mode == 'frozen':
            self.recognizer.requires_grad_(False)
            self.recognizer.eval()

    def train(self, mode: bool = True):
        super().train(mode)
        if self.mode == 'frozen':
            self.recognizer.eval()
        return self

    def init_weights(self):
        """Initialise the decoder; the recognizer only when no checkpoint was loaded."""
        self.decoder.init_weights()
        if self.checkpoint is None and hasattr(self.recognizer, 'init_weights'):
            self.recognizer.init_weights()

    # ------------------------------------------------------------------ pieces
    @staticmethod
    def _stack(x):
        return torch.stack(list(x)) if isinstance(x, (list, tuple)) else x

    def _input(self, inputs, key):
        if not isinstance(inputs, dict) or key not in inputs:
            have = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
            raise KeyError(f'FlowProbeRecognizer needs inputs[{key!r}]; got {have}')
        return inputs[key]

    def extract_feature(self, inputs, data_samples=None) -> torch.Tensor:
        """The ``feature_layer`` output ``[B·N, C, T', h, w]`` for the rgb input."""
        rgb = self._input(inputs, self.rgb_modality)
        rgb = list(rgb) if isinstance(rgb, torch.Tensor) else rgb
        # training=False: batch blending (mixup) would not match the target flow.
        data = self.recognizer.data_preprocessor(
            dict(inputs=rgb, data_samples=data_samples), False)
        layer = find_module(self.recognizer, self.feature_layer)

        def hook(module, args, output):
            raise _FeatureCaptured(output)

        handle = layer.register_forward_hook(hook)
        try:
            with torch.set_grad_enabled(torch.is_grad_enabled() and self.mode != 'frozen'):
                self.recognizer.extract_feat(data['inputs'], data_samples=data['data_samples'])
            raise RuntimeError(f'feature_layer {self.feature_layer!r} was not run by the '
                               'recognizer\'s extract_feat')
        except _FeatureCaptured as captured:
            feat = captured.feature
        finally:
            handle.remove()
        if isinstance(feat, (list, tuple)):
            feat = feat[0]
        if feat.dim() != 5:
            raise ValueError(f'feature_layer {self.feature_layer!r} gives shape '
                             f'{tuple(feat.shape)}; the probe needs [B, C, T, H, W] '
                             '(or [B, T, H, W, C] with channels_last=True)')
        if self.channels_last:
            feat = feat.permute(0, 4, 1, 2, 3)
        return feat.contiguous()

    def target_flow(self, inputs, num_frames: int) -> torch.Tensor:
        """Dequantised flow ``[B·N, 2, T', H, W]`` (pixels) at the feature's T' frames."""
        q = self._stack(self._input(inputs, self.flow_modality))
        uv = dequantise_flow(q, self.flow_bound).flatten(0, 1)
        t = uv.shape[2]
        if t != num_frames:
            idx = ((torch.arange(num_frames, device=uv.device) + 0.5) * t / num_frames).long()
            uv = uv.index_select(2, idx.clamp(max=t - 1))
        return uv

    def _flow_valid(self, data_samples, batch, num_clips, device) -> torch.Tensor:
        rows = [True if ds is None else
                bool((ds.metainfo.get('modality_present') or {}).get(self.flow_modality, True))
                for ds in (data_samples or [None] * batch)]
        return torch.tensor(rows, device=device).repeat_interleave(num_clips)

    def predict_flow(self, inputs, data_samples=None, out_size=None) -> torch.Tensor:
        """Decoder output ``[B·N, 3, T', H, W]`` (mag, sin θ, cos θ)."""
        feat = self.extract_feature(inputs, data_samples)
        return self.decoder(feat, out_size=out_size)

    def _pred_and_target(self, inputs, data_samples):
        flow = self._stack(self._input(inputs, self.flow_modality))
        pred = self.predict_flow(inputs, data_samples, out_size=flow.shape[-2:])
        target = self.target_flow({self.flow_modality: flow}, pred.shape[2])
        valid = self._flow_valid(data_samples, flow.shape[0], flow.shape[1], flow.device)
        return pred, target, valid, flow.shape[:2]

    # ------------------------------------------------------------------ modes
    def loss(self, inputs, data_samples) -> dict:
        pred, target, valid, _ = self._pred_and_target(inputs, data_samples)
        if not valid.any():
            return {k: pred.sum() * 0 for k in ('loss_mag', 'loss_sin', 'loss_cos')}
        return self.decoder.loss(pred[valid], target[valid])

    def predict(self, inputs, data_samples):
        """``data_samples`` with ``pred_epe`` (float tensor, pixels) per sample."""
        pred, target, valid, (batch, num_clips) = self._pred_and_target(inputs, data_samples)
        err = epe(flow_from_prediction(pred), target, per_sample=True)
        err = err.masked_fill(~valid, float('nan')).view(batch, num_clips).mean(1)
        for ds, e in zip(data_samples, err):
            ds.pred_epe = e.detach()
        return data_samples

    def forward(self, inputs, data_samples=None, mode: str = 'tensor'):
        if mode == 'loss':
            return self.loss(inputs, data_samples)
        if mode == 'predict':
            return self.predict(inputs, data_samples)
        if mode == 'tensor':
            key = self.flow_modality if self.flow_modality in inputs else self.rgb_modality
            size = self._stack(inputs[key]).shape[-2:]
            return self.predict_flow(inputs, data_samples, out_size=size)
        raise RuntimeError(f'Invalid mode "{mode}". Only supports loss, predict and tensor mode')
