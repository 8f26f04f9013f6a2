from . import backbones, distillers, fusion, heads, losses, necks, recognizers  # noqa: F401
