# Copyright (c) mmdistill contributors.
from .multi_head_mlp import MultiHeadMLP

__all__ = ['MultiHeadMLP']
from .flow_decoder_probe import FlowDecoderProbe  # noqa: E402,F401
