# Copyright (c) mmdistill contributors.
"""RGB / depth / flow frame folders listed in a text file (NTU RGB+D, NW-UCLA, UWA3DII)."""
import os.path as osp
from typing import Dict, Optional, Sequence

from mmengine.dataset import BaseDataset

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .transforms._utils import check_frame_template

DEFAULT_TMPL = dict(rgb='img_{:05d}.jpg', depth='{:05d}.png', flow='{}_{:05d}.jpg')


@DATASETS.register_module()
class MultimodalFrameListDataset(BaseActionDataset):
    """Samples ``<name> <total_frames> <label>`` (MMAction2's rawframe list format, one per
    line) whose modalities live in ``data_prefix[m]/<name>/`` (frames extracted from the public
    NTU RGB+D ``*_rgb.avi`` and ``nturgb+d_depth_masked/<name>/MDepth-%08d.png``, NW-UCLA's
    ``view_*/a*_s*_e*/frame_*_tc_*_{rgb,depth}.*`` renamed, UWA3DII's RGB-D ``.avi``/``.png``;
    flow by ``tools/data/extract_flow.py``).

    Multi-label lists (``multi_class=True``, MMAction2's rawframe convention, Charades):
    ``<name> <total_frames> <label1> <label2> ...``, zero or more labels per line (a line
    without labels is a video negative for every class). ``label`` then stays the sorted list of
    distinct class indices (not MMAction2's float multi-hot of ``BaseActionDataset``):
    ``PackMultimodalInputs`` packs it as ``gt_labels.item`` ``LongTensor[k]``, and
    ``MultiModalityNetworks(multi_label=True)`` / ``MultiModalityMetric(multi_label=True)``
    turn the indices into the ``[B, C]`` multi-hot that ``MutualLearningLoss`` / mAP use.

    Each results dict has ``modalities``, ``label``, ``total_frames``, ``start_index=1``,
    ``frame_dir`` + ``filename_tmpl`` (rgb), ``depth_dir`` + ``depth_filename_tmpl``,
    ``flow_dir`` + ``flow_filename_tmpl`` + ``flow_components=('x', 'y')`` +
    ``flow_total_frames = total_frames − 1``.

    Args:
        ann_file (str): the list file.
        data_prefix (dict): ``modality -> root``.
        modalities (Sequence[str]): subset of ``('rgb', 'depth', 'flow')``.
        filename_tmpls (dict, optional): ``modality -> template`` (defaults
            ``img_{:05d}.jpg``, ``{:05d}.png``, ``{}_{:05d}.jpg``).
        multi_class (bool): multi-label lines (see above).
        num_classes (int, optional): class count, required with ``multi_class``.

    Raises:
        ValueError: an unknown modality, ``multi_class`` without ``num_classes``, an empty list.
        AnnotationError (a ValueError): lines breaking
            :func:`~mmdistill_plugin.datasets.schemas.frame_list.frame_list_schema` (a frame
            count that is not an integer >= 1, a label that is not an
            integer in ``[0, num_classes)``, not exactly one label in a single-label list),
            naming the file, the line, the name, the field and the value. A name listed twice
            is kept (each line is a sample, as in MMAction2's lists) with a warning naming the
            lines.
        FileNotFoundError: a missing list file.
    """

    def __init__(self, ann_file: str, pipeline=(), data_prefix: Optional[Dict[str, str]] = None,
                 modalities: Sequence[str] = ('rgb', 'depth', 'flow'),
                 filename_tmpls: Optional[Dict[str, str]] = None, test_mode: bool = False,
                 multi_class: bool = False, num_classes: Optional[int] = None,
                 **kwargs) -> None:
        unknown = set(modalities) - set(DEFAULT_TMPL)
        if unknown:
            raise ValueError(f'MultimodalFrameListDataset: unsupported modalities '
                             f'{sorted(unknown)} (use {sorted(DEFAULT_TMPL)})')
        if multi_class and (num_classes is None or num_classes < 1):
            raise ValueError(f'MultimodalFrameListDataset: multi_class=True needs num_classes '
                             f'>= 1, got {num_classes!r}')
        self.modalities = tuple(modalities)
        self.tmpls = dict(DEFAULT_TMPL, **(filename_tmpls or {}))
        for m, tmpl in self.tmpls.items():
            check_frame_template(tmpl, f'filename_tmpls[{m!r}]', with_component=m == 'flow')
        prefix = {m: '' for m in DEFAULT_TMPL}
        prefix.update(data_prefix or {})
        super().__init__(ann_file, pipeline=list(pipeline), data_prefix=prefix,
                         test_mode=test_mode, start_index=1, multi_class=multi_class,
                         num_classes=num_classes, **kwargs)

    def get_data_info(self, idx: int) -> dict:
        """The sample's dict; multi-label ``label`` stays a class-index list (see above)."""
        info = BaseDataset.get_data_info(self, idx)
        info.update(modality=self.modality, start_index=self.start_index)
        return info

    def _read(self):
        """``[(line number, name, total_frames, label)]`` of the list, validated against
        :func:`~mmdistill_plugin.datasets.schemas.frame_list.frame_list_schema`."""
        import pandas as pd

        from .schemas import validate_table
        from .schemas.frame_list import FRAME_LIST_WARNINGS, frame_list_schema
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(f'annotation list not found: {self.ann_file}')
        rows, lines = [], []
        with open(self.ann_file) as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if parts:
                    rows.append(dict(name=parts[0], total_frames=(parts[1] if len(parts) > 1
                                                                  else None),
                                     labels=[int(p) if p.isdigit() else p
                                             for p in parts[2:]]))
                    lines.append(n)
        if not rows:
            raise ValueError(f'annotation list {self.ann_file} has no lines')
        df = pd.DataFrame.from_records(rows).astype(object)
        validate_table(df, frame_list_schema(self.num_classes, self.multi_class), self.ann_file,
                       where=lambda i: f'line {lines[i]} (name {rows[i]["name"]!r})',
                       warn_schema=FRAME_LIST_WARNINGS)
        out = []
        for n, r in zip(lines, rows):
            labels = [int(x) for x in r['labels']]
            out.append((n, r['name'], int(r['total_frames']),
                        sorted(set(labels)) if self.multi_class else labels[0]))
        return out

    def load_data_list(self):
        out = []
        for _, name, total, label in self._read():
            info = dict(modalities=self.modalities, video_id=name, label=label,
                        total_frames=total, start_index=1, modality='RGB')
            if 'rgb' in self.modalities:
                info.update(frame_dir=osp.join(self.data_prefix['rgb'], name),
                            filename_tmpl=self.tmpls['rgb'])
            if 'depth' in self.modalities:
                info.update(depth_dir=osp.join(self.data_prefix['depth'], name),
                            depth_filename_tmpl=self.tmpls['depth'])
            if 'flow' in self.modalities:
                info.update(flow_dir=osp.join(self.data_prefix['flow'], name),
                            flow_filename_tmpl=self.tmpls['flow'],
                            flow_components=('x', 'y'), rgb_to_flow_ratio=1,
                            flow_total_frames=max(total - 1, 1))
            out.append(info)
        return out
