# Copyright (c) mmdistill contributors.
"""Catch labels a classification head cannot represent, before the loss does."""
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmaction.registry import HOOKS

_ID_KEYS = ('narration_id', 'video_id', 'filename', 'frame_dir', 'sample_idx')


def classification_heads(model: torch.nn.Module) -> List[Tuple[str, str, Dict[str, int]]]:
    """``(module path, class name, {label field: num_classes})`` of every classification head.

    A head is an MMAction2 ``BaseHead`` (one field, ``'item'``) or a module whose
    ``num_classes`` is a dict of label field -> count (``MultiHeadMLP``).
    """
    from mmaction.models.heads import BaseHead
    heads = []
    for path, module in model.named_modules():
        n = getattr(module, 'num_classes', None)
        if isinstance(n, dict) and n and all(isinstance(v, int) for v in n.values()):
            heads.append((path or 'model', type(module).__name__, dict(n)))
        elif isinstance(module, BaseHead) and isinstance(n, int):
            heads.append((path or 'model', type(module).__name__, {'item': n}))
    return heads


def check_labels(heads, data_samples) -> None:
    """Raise ``ValueError`` at the first scalar label outside a head's ``[0, num_classes)``.

    Args:
        heads: :func:`classification_heads` of the model.
        data_samples: ``ActionDataSample`` list (``gt_labels.<field>``); samples or fields
            without a label, and multi-label (one-hot / multi-hot) vectors are not checked.

    Raises:
        ValueError: naming the head (module path and type), its ``num_classes``, the label
            field and value, and the sample's id.
    """
    for ds in data_samples or ():
        gt = getattr(ds, 'gt_labels', None)
        if gt is None:
            continue
        for path, cls_name, counts in heads:
            for field, n in counts.items():
                if field not in gt:
                    continue
                value = torch.as_tensor(getattr(gt, field))
                if value.numel() != 1 or value.is_floating_point():
                    continue
                label = int(value.reshape(-1)[0])
                if not 0 <= label < n:
                    meta = ds.metainfo
                    sid = next((f'{k}={meta[k]!r}' for k in _ID_KEYS if meta.get(k) is not None),
                               'a sample without id')
                    raise ValueError(
                        f'Label {label} (gt_labels.{field}) of sample {sid} is out of range for '
                        f'head {path} ({cls_name}, num_classes={n}); labels must be in '
                        f"[0, {n}). Set the head's num_classes to the dataset's class count.")


@HOOKS.register_module()
class LabelRangeCheckHook(Hook):
    """Check every train / val / test batch's labels against the model's classification heads.

    Without it a label ``>= num_classes`` surfaces as ``IndexError: Target 2 is out of bounds``
    from inside the cross-entropy (or a silently wrong accuracy at test time). The check runs
    before the model sees the batch and costs one comparison per label.

    Raises:
        ValueError: see :func:`check_labels`.
    """

    priority = 'VERY_HIGH'

    def __init__(self) -> None:
        self._heads: Optional[list] = None

    def before_run(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._heads = classification_heads(model)

    def _check(self, runner, data_batch) -> None:
        if self._heads is None:
            self.before_run(runner)
        if self._heads and isinstance(data_batch, dict):
            check_labels(self._heads, data_batch.get('data_samples'))

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch)

    def before_val_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch)

    def before_test_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self._check(runner, data_batch)
