# Copyright (c) mmdistill contributors.
"""Declared schemas of every annotation file the datasets read (docs/reliability.md,
"Annotation schemas", is generated from them).

Tables use ``pandera`` (column-wise rules run vectorised over a whole file, every failure
collected with its row); JSON records use ``pydantic`` (nested records, typed fields, and an
error location path per failure). Importing this package imports both libraries (~1 s): the
readers import it when they first read a file, not when the plugin is imported.
"""
from . import charades, epic, frame_list, ssv2  # importing them registers the schemas
from .base import REGISTRY, AnnotationError, validate_records, validate_table

__all__ = ['AnnotationError', 'REGISTRY', 'validate_records', 'validate_table', 'charades',
           'epic', 'frame_list', 'ssv2']
