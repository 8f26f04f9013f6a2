from .atomic_checkpoint_hook import AtomicCheckpointHook
from .finite_loss_hook import FiniteLossHook, NonFiniteLossError
from .label_range_check_hook import LabelRangeCheckHook

__all__ = ['AtomicCheckpointHook', 'FiniteLossHook', 'LabelRangeCheckHook', 'NonFiniteLossError']
