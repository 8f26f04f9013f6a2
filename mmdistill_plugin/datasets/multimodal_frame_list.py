# Copyright (c) mmdistill contributors.
"""RGB / depth / flow frame folders listed in a text file (NTU RGB+D, NW-UCLA, UWA3DII)."""
import os.path as osp
from typing import Dict, Optional, Sequence

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS

DEFAULT_TMPL = dict(rgb='img_{:05d}.jpg', depth='{:05d}.png', flow='{}_{:05d}.jpg')


@DATASETS.register_module()
class MultimodalFrameListDataset(BaseActionDataset):
    """Samples ``<name> <total_frames> <label>`` (MMAction2's rawframe list format, one per
    line) whose modalities live in ``data_prefix[m]/<name>/`` (frames extracted from the public
    NTU RGB+D ``*_rgb.avi`` and ``nturgb+d_depth_masked/<name>/MDepth-%08d.png``, NW-UCLA's
    ``view_*/a*_s*_e*/frame_*_tc_*_{rgb,depth}.*`` renamed, UWA3DII's RGB-D ``.avi``/``.png``;
    flow by ``tools/data/extract_flow.py``).

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

    Raises:
        ValueError: an unknown modality, or a malformed line (names file and line).
        FileNotFoundError: a missing list file.
    """

    def __init__(self, ann_file: str, pipeline=(), data_prefix: Optional[Dict[str, str]] = None,
                 modalities: Sequence[str] = ('rgb', 'depth', 'flow'),
                 filename_tmpls: Optional[Dict[str, str]] = None, test_mode: bool = False,
                 **kwargs) -> None:
        unknown = set(modalities) - set(DEFAULT_TMPL)
        if unknown:
            raise ValueError(f'MultimodalFrameListDataset: unsupported modalities '
                             f'{sorted(unknown)} (use {sorted(DEFAULT_TMPL)})')
        self.modalities = tuple(modalities)
        self.tmpls = dict(DEFAULT_TMPL, **(filename_tmpls or {}))
        prefix = {m: '' for m in DEFAULT_TMPL}
        prefix.update(data_prefix or {})
        super().__init__(ann_file, pipeline=list(pipeline), data_prefix=prefix,
                         test_mode=test_mode, start_index=1, **kwargs)

    def load_data_list(self):
        if not osp.exists(self.ann_file):
            raise FileNotFoundError(f'annotation list not found: {self.ann_file}')
        out = []
        with open(self.ann_file) as f:
            for n, line in enumerate(f, 1):
                parts = line.split()
                if not parts:
                    continue
                if len(parts) != 3 or not parts[1].isdigit() or not parts[2].isdigit():
                    raise ValueError(f'{self.ann_file}:{n}: expected "<name> <total_frames> '
                                     f'<label>", got {line.strip()!r}')
                name, total, label = parts[0], int(parts[1]), int(parts[2])
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
