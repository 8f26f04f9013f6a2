# Copyright (c) mmdistill contributors.
"""Feed packed ``[N, C, T, H, W]`` clips to 2D recognizers (TSN / TSM) as ``N·T`` images."""
from typing import Optional, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class FramesAsImages(BaseDataPreprocessor):
    """``[N, C, T, H, W]`` per sample → ``[N·T, C, H, W]``, then the wrapped preprocessor.

    ``PackMultimodalInputs`` packs every visual modality as ``NCTHW``; MMAction2's
    ``Recognizer2D`` (TSM, TSN) wants ``NCHW`` images, segment-major (``ActionDataPreprocessor``
    with ``format_shape='NCHW'``). With ``FramesToSegments`` (one multi-channel frame per
    segment, T = 1) this gives TSM its ``num_segments`` images per clip.

    Args:
        preprocessor (dict | BaseDataPreprocessor): default ``ActionDataPreprocessor(
            format_shape='NCHW')``.

    Raises:
        ValueError: (at call time) an input that is not 5-D (names its shape).
    """

    def __init__(self, preprocessor: Optional[Union[dict, BaseDataPreprocessor]] = None) -> None:
        super().__init__()
        if preprocessor is None:
            preprocessor = dict(type='ActionDataPreprocessor', format_shape='NCHW')
        self.preprocessor = (preprocessor if isinstance(preprocessor, BaseDataPreprocessor)
                             else MODELS.build(preprocessor))

    @staticmethod
    def _flatten(x: torch.Tensor) -> torch.Tensor:
        if x.dim() != 5:
            raise ValueError(f'FramesAsImages expects [N, C, T, H, W] per sample, got '
                             f'{tuple(x.shape)}')
        return x.permute(0, 2, 1, 3, 4).reshape(-1, x.shape[1], *x.shape[3:])

    def forward(self, data: dict, training: bool = False) -> dict:
        inputs = data['inputs']
        data = dict(data)
        data['inputs'] = ([self._flatten(x) for x in inputs] if isinstance(inputs, (list, tuple))
                          else torch.stack([self._flatten(x) for x in inputs]))
        return self.preprocessor(data, training)
