from .inflated_pretrained import InflatedPretrainedInit, inflate_input_channels

__all__ = ['InflatedPretrainedInit', 'inflate_input_channels']
