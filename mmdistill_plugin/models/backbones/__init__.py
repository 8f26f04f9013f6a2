# Copyright (c) mmdistill contributors.
from .ast import AudioSpectrogramTransformer
from .stlt import STLT

__all__ = ['STLT', 'AudioSpectrogramTransformer']
