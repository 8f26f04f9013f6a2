# Copyright (c) mmdistill contributors.
from .theta_average import ThetaAverage

__all__ = ['ThetaAverage']
