"""Initialise backbones from published recognizer checkpoints: inflate the input convolution of a
non-RGB backbone from RGB weights (``InflatedPretrained``), and read one sub-model of a checkpoint
through a ``pretrained`` path (the ``submodule:`` checkpoint scheme)."""
from typing import Sequence

import torch
from mmengine.logging import MMLogger, print_log
from mmengine.model.weight_init import PretrainedInit
from mmengine.registry import WEIGHT_INITIALIZERS
from mmengine.runner.checkpoint import (CheckpointLoader, _load_checkpoint_with_prefix,
                                        load_state_dict)

SUBMODULE_SCHEME = 'submodule:'


@CheckpointLoader.register_scheme(prefixes=SUBMODULE_SCHEME)
def load_submodule_checkpoint(filename: str, map_location=None):
    """``'submodule:<prefix>:<checkpoint>'`` → the state dict of ``<checkpoint>`` (a file or an
    http(s) URL, which mmengine downloads and caches) restricted to the keys under ``<prefix>``,
    with the prefix removed.

    For MMAction2 backbones that load their ``pretrained`` path themselves and ignore
    ``init_cfg`` (``ResNet3d`` / ``ResNet2Plus1d``, ``TimeSformer``): MMAction2's model-zoo files
    are recognizer checkpoints (``backbone.*``, ``cls_head.*``), whose keys such a backbone would
    not match (it would silently load nothing). Example::

        backbone=dict(type='ResNet2Plus1d', depth=34,
                      pretrained='submodule:backbone.:https://download.openmmlab.com/...pth')

    Raises:
        ValueError: no ``:`` after the prefix, or no key starts with the prefix.
    """
    prefix, sep, path = filename[len(SUBMODULE_SCHEME):].partition(':')
    if not sep or not prefix or not path:
        raise ValueError(f'{filename!r}: expected submodule:<prefix>:<checkpoint>, e.g. '
                         f"'submodule:backbone.:work_dirs/x/epoch_20.pth'")
    # _load_checkpoint_with_prefix raises AssertionError when nothing starts with the prefix
    try:
        return _load_checkpoint_with_prefix(prefix, path, map_location=map_location)
    except AssertionError as exc:
        raise ValueError(f'{path}: no key starts with {prefix!r}') from exc


def inflate_input_channels(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """Mean of an RGB kernel over its input channels, copied ``in_channels`` times.

    MML (Komkov et al., §2.4) / KARMMA flow extractor: a first convolution for N input channels
    (flow: 2, spectrogram: 1, stacked flow: 10) starts as the channel mean of the RGB kernel.

    Args:
        weight: ``[C_out, C_in, *kernel]`` (dim 1 = input channels).
        in_channels: N.

    Returns:
        ``[C_out, N, *kernel]``.
    """
    mean = weight.mean(dim=1, keepdim=True)
    return mean.expand(-1, in_channels, *([-1] * (weight.dim() - 2))).clone()


@WEIGHT_INITIALIZERS.register_module(name='InflatedPretrained')
class InflatedPretrainedInit(PretrainedInit):
    """``Pretrained`` init that inflates input convolutions whose channel count differs.

    Example (a flow Swin3D from a Kinetics-400 RGB checkpoint)::

        init_cfg=dict(type='InflatedPretrained', checkpoint='swin_t_k400.pth',
                      prefix='backbone.', inflate_keys=['patch_embed.proj.weight'])

    Args:
        checkpoint (str): Checkpoint file or http(s) URL (mmengine downloads it once into the
            torch hub cache, ``~/.cache/torch/hub/checkpoints``).
        prefix (str, optional): Sub-model prefix in the checkpoint, e.g. ``'backbone.'``.
        inflate_keys (Sequence[str] | str): Parameters to inflate when their input channels
            differ, or ``'auto'``: every conv kernel that differs only in its input channels
            (e.g. ``conv1.conv.weight`` of a ResNet, whatever its name).
        map_location (str): Defaults to ``'cpu'``.
    """

    def __init__(self, checkpoint: str, prefix: str = None,
                 inflate_keys: Sequence[str] = ('patch_embed.proj.weight', ),
                 map_location: str = 'cpu') -> None:
        super().__init__(checkpoint, prefix=prefix, map_location=map_location)
        self.inflate_keys = inflate_keys if inflate_keys == 'auto' else tuple(inflate_keys)

    def __call__(self, module) -> None:
        logger = MMLogger.get_current_instance()
        if self.prefix is None:
            from mmengine.runner.checkpoint import _load_checkpoint
            ckpt = _load_checkpoint(self.checkpoint, map_location=self.map_location)
            state = ckpt.get('state_dict', ckpt)
        else:
            state = _load_checkpoint_with_prefix(self.prefix, self.checkpoint,
                                                 map_location=self.map_location)
        own = module.state_dict()
        before = {k: state[k].shape[1] for k in own if k in state and hasattr(state[k], 'shape')
                  and state[k].dim() > 1}
        for key in inflate_state_dict(state, own, self.inflate_keys):
            print_log(f'inflating {key} from {before[key]} to {own[key].shape[1]} input '
                      'channels', logger=logger)
        load_state_dict(module, state, strict=False, logger=logger)
        if hasattr(module, '_params_init_info'):
            from mmengine.model.weight_init import update_init_info
            update_init_info(module, init_info=f'Initialized by {self._get_init_info()}')

    def _get_init_info(self) -> str:
        return f'{self.__class__.__name__}: load from {self.checkpoint} (inflated input conv)'


def inflatable_keys(state: dict, own: dict) -> list:
    """Keys of ``state`` holding an RGB conv kernel (≥ 3 dims, 3 input channels) whose tensor
    differs from ``own``'s only in dim 1 (input channels): the candidates for
    :func:`inflate_input_channels`. (Kernels after the first layer are never RGB kernels; R(2+1)D's
    factorised stem also changes its middle width with the input channels, so its temporal conv
    and BN do not fit whatever is inflated: load such members with ``strict=False``.)"""
    keys = []
    for k, v in state.items():
        w = own.get(k)
        if (w is None or not hasattr(v, 'shape') or v.dim() < 3 or v.dim() != w.dim()
                or v.shape == w.shape):
            continue
        if v.shape[1] == 3 and v.shape[0] == w.shape[0] and v.shape[2:] == w.shape[2:]:
            keys.append(k)
    return keys


def inflate_state_dict(state: dict, own: dict, inflate_keys='auto') -> list:
    """Inflate, in place, the input convolutions of ``state`` to the channel counts of ``own``.

    Args:
        state: the checkpoint's state dict (edited in place).
        own: the target module's state dict.
        inflate_keys: ``'auto'`` (every conv kernel that differs only in its input channels, see
            :func:`inflatable_keys`) or an explicit list of keys.

    Returns:
        The inflated keys.
    """
    keys = inflatable_keys(state, own) if inflate_keys == 'auto' else [
        k for k in inflate_keys if k in state and k in own and state[k].shape != own[k].shape]
    for k in keys:
        state[k] = inflate_input_channels(state[k], own[k].shape[1])
    return keys
