from .checkpoint import TeacherCheckpointError, load_teacher, resolve_checkpoint, teacher_state_dict
from .inflated_pretrained import (InflatedPretrainedInit, inflatable_keys, inflate_input_channels,
                                  inflate_state_dict)
from .modules import find_module, set_preprocessor_device
from .recognizer_io import preprocess_for, recognizer_logits, select_inputs, student_loss_and_logits

__all__ = [
    'InflatedPretrainedInit', 'inflate_input_channels', 'inflatable_keys',
    'inflate_state_dict', 'find_module', 'TeacherCheckpointError',
    'load_teacher', 'resolve_checkpoint', 'teacher_state_dict', 'recognizer_logits',
    'select_inputs', 'student_loss_and_logits', 'set_preprocessor_device', 'preprocess_for'
]
