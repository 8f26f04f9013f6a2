from . import (backbones, data_preprocessors, distillers, fusion, heads, losses,  # noqa: F401
               necks, recognizers, utils)
