from . import backbones, distillers, fusion, heads, losses, necks, recognizers, utils  # noqa: F401
