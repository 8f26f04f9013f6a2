from .distill_recognizer import DistillRecognizer
from .feature_distill import FeatureDistillation

__all__ = ['DistillRecognizer', 'FeatureDistillation']
