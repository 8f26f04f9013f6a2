# Copyright (c) mmdistill contributors.
"""Inference on raw videos (see :mod:`mmdistill_plugin.apis.inference`)."""
from .inference import (class_names, inference_multimodal_recognizer, init_multimodal_recognizer,
                        prepare_video_sample, scores_per_head, topk)

__all__ = ['class_names', 'inference_multimodal_recognizer', 'init_multimodal_recognizer',
           'prepare_video_sample', 'scores_per_head', 'topk']
