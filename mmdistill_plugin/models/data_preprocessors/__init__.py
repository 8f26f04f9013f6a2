# Copyright (c) mmdistill contributors.
from .select_modality import SelectModality

__all__ = ['SelectModality']
from .frames_as_images import FramesAsImages  # noqa: E402,F401
