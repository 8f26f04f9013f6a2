from .inflated_pretrained import InflatedPretrainedInit, inflate_input_channels
from .modules import find_module

__all__ = ['InflatedPretrainedInit', 'inflate_input_channels', 'find_module']
