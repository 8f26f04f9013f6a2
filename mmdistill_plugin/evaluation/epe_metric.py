"""End-point error of D3D's flow probe (``FlowProbeRecognizer``)."""
import math
from collections import OrderedDict
from typing import Optional, Sequence

from mmengine.evaluator import BaseMetric
from mmengine.logging import MMLogger

from mmaction.registry import METRICS


@METRICS.register_module()
class EPEMetric(BaseMetric):
    """Mean end-point error (pixels) over samples (D3D §3.2, lower is better).

    Reads ``pred_epe`` (a sample's EPE: mean over its clips, frames and pixels of
    ``‖(u, v)_pred − (u, v)_gt‖₂``, written by ``FlowProbeRecognizer.predict``) and reports
    ``EPE`` = the mean over samples. Samples with ``pred_epe = nan`` (no flow loaded) are
    skipped and counted in ``num_skipped``.

    Raises:
        KeyError: a data sample without ``pred_epe`` (the model is not a flow probe).
    """
    default_prefix = ''

    def __init__(self, collect_device: str = 'cpu', prefix: Optional[str] = None) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for ds in data_samples:
            if 'pred_epe' not in ds:
                raise KeyError('EPEMetric needs pred_epe in the predictions; evaluate a '
                               'FlowProbeRecognizer')
            self.results.append(float(ds['pred_epe']))

    def compute_metrics(self, results: list) -> dict:
        valid = [r for r in results if not math.isnan(r)]
        skipped = len(results) - len(valid)
        if skipped:
            MMLogger.get_current_instance().warning(
                f'EPEMetric: {skipped} samples without flow were skipped')
        return OrderedDict(EPE=sum(valid) / len(valid) if valid else float('nan'),
                           num_skipped=skipped)
