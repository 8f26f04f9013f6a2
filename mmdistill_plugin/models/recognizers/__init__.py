from .multimodal_recognizer import MultimodalRecognizer

__all__ = ['MultimodalRecognizer']
from .box_recognizer import BoxRecognizer  # noqa: E402
from .flow_probe_recognizer import FlowProbeRecognizer  # noqa: E402,F401
from .logit_ensemble import LogitEnsemble  # noqa: E402,F401

__all__ += ['BoxRecognizer']
from .multi_modality_networks import MultiModalityNetworks  # noqa: E402

__all__ += ['MultiModalityNetworks']
