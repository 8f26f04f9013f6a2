from .multimodal_recognizer import MultimodalRecognizer

__all__ = ['MultimodalRecognizer']
