# Copyright (c) mmdistill contributors.
from .multi_head_mlp import MultiHeadMLP

__all__ = ['MultiHeadMLP']
