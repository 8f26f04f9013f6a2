# Copyright (c) mmdistill contributors.
"""Feed one modality of a packed multimodal batch to a single-modality model."""
from typing import Optional, Union

from mmengine.model import BaseDataPreprocessor

from mmaction.registry import MODELS


@MODELS.register_module()
class SelectModality(BaseDataPreprocessor):
    """Pick ``inputs[modality]`` from a ``dict(modality -> ...)`` batch and delegate.

    ``PackMultimodalInputs`` gives ``inputs`` as a dict; MMAction2's plain recognizers
    (``Recognizer2D/3D``) and ``ActionDataPreprocessor`` expect one modality (a list of
    per-sample tensors, stacked by the preprocessor). Used as a recognizer's
    ``data_preprocessor``, this selects one modality and runs the wrapped ``preprocessor`` on
    it, so the recognizer receives the stacked, normalised tensor (e.g. ``[B, N, C, T, H, W]``
    for ``format_shape='NCTHW'``). Non-dict inputs (already one modality) are passed through
    unchanged to the wrapped preprocessor.

    Config example (Omnivore baseline: ``SampleOneModality`` wrote the sampled modality into
    ``rgb``)::

        data_preprocessor=dict(
            type='SelectModality', modality='rgb',
            preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                              std=[58.395, 57.12, 57.375], to_rgb=True, format_shape='NCTHW'))

    Args:
        modality (str): key of ``inputs`` to keep.
        preprocessor (dict | BaseDataPreprocessor, optional): the preprocessor of the selected
            modality (default ``ActionDataPreprocessor(format_shape='NCTHW')``).

    Raises:
        KeyError: (at call time) the dict inputs do not hold ``modality``.
    """

    def __init__(self, modality: str = 'rgb',
                 preprocessor: Optional[Union[dict, BaseDataPreprocessor]] = None) -> None:
        super().__init__()
        if preprocessor is None:
            preprocessor = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
        self.modality = modality
        self.preprocessor = (preprocessor if isinstance(preprocessor, BaseDataPreprocessor)
                             else MODELS.build(preprocessor))

    def forward(self, data: dict, training: bool = False) -> dict:
        """``dict(inputs=<preprocessed inputs[modality]>, data_samples=...)``."""
        inputs = data['inputs']
        if isinstance(inputs, dict):
            if self.modality not in inputs:
                raise KeyError(f'SelectModality: modality {self.modality!r} not in the batch '
                               f'inputs ({sorted(inputs)}); pack it with PackMultimodalInputs')
            inputs = inputs[self.modality]
        data = dict(data)
        data['inputs'] = inputs
        return self.preprocessor(data, training)
