# Copyright (c) mmdistill contributors.
"""A training set of precomputed frozen-extractor tokens (KARMMA teacher without backbones)."""
import numpy as np
import torch
from mmengine.structures import LabelData

from mmaction.registry import DATASETS
from mmaction.structures import ActionDataSample
from .transforms.formatting import _label_tensor
from .view_cache_dataset import ViewCacheDataset


@DATASETS.register_module()
class FeatureCacheDataset(ViewCacheDataset):
    """Serve the stored tokens of one of K views per sample instead of decoding pixels.

    KARMMA's teacher keeps its feature extractors frozen (§3.2), so only the fusion block and
    the head train; ``tools/extract_features.py`` stores each modality's Θ-Averaged tokens for
    K augmented views, and this dataset returns, per sample and epoch, one stored view:
    ``inputs = dict(m -> float32 [1, Θ_m, C_m])`` (one clip) and an ``ActionDataSample`` with
    the sample's labels and ``modality_present`` / ``modality_mask`` of that view. No
    pipeline runs. Use with ``MultimodalRecognizer(feature_cache=...)``.

    Args:
        dataset (dict): the training set's config (labels and the pipeline the tokens were
            extracted with, checked against the cache's stamp).
        cache (str): the directory written by ``tools/extract_features.py``.

    Raises:
        StaleTeacherCacheError: the cache was extracted with another pipeline / dataset.
    """

    group = 'tokens'

    def pack(self, idx, view, info, stored, tokens):
        sample = ActionDataSample()
        label = info.get('label')
        if label is not None:
            sample.gt_labels = LabelData(**{k: _label_tensor(v) for k, v in label.items()}) \
                if isinstance(label, dict) else LabelData(item=_label_tensor(label))
        present = {m: bool(v) for m, v in stored['modality_present'].items()}
        sample.set_metainfo(dict(sample_idx=idx, view=stored['draws'], cache_view=view,
                                 modality_present=present, modality_mask=dict(present),
                                 modalities=tuple(tokens)))
        inputs = {m: torch.from_numpy(np.asarray(t, np.float32))[None] for m, t in tokens.items()}
        return dict(inputs=inputs, data_samples=sample)
