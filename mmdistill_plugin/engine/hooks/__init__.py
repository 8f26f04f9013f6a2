from .atomic_checkpoint_hook import AtomicCheckpointHook
from .label_range_check_hook import LabelRangeCheckHook

__all__ = ['AtomicCheckpointHook', 'LabelRangeCheckHook']
