from .distill_recognizer import DistillRecognizer
from .teacher_loading import TeacherCheckpointError, load_teacher

__all__ = ['DistillRecognizer', 'TeacherCheckpointError', 'load_teacher']
