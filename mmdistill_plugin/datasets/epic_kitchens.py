# Copyright (c) mmdistill contributors.
"""EPIC-KITCHENS-100 action segments (verb + noun) with rgb / flow / audio paths."""
import ast
import csv
import io
import numbers
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine import fileio
from mmengine.dataset import BaseDataset

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .sample_errors import SampleNamingMixin
from .transforms._utils import check_file, read_text

NUM_VERB_CLASSES = 97
NUM_NOUN_CLASSES = 300

DEFAULT_PATH_TEMPLATES = dict(
    rgb='{participant_id}/rgb_frames/{video_id}',        # + rgb_filename_tmpl
    video='{participant_id}/videos/{video_id}.MP4',
    flow='{participant_id}/flow_frames/{video_id}',      # + flow_filename_tmpl
    audio='{participant_id}/audio/{video_id}.wav')


def parse_timestamp(ts: Union[str, float, int]) -> float:
    """``'HH:MM:SS.ff'`` (or ``'MM:SS.ff'`` / seconds) -> seconds (float)."""
    if isinstance(ts, (int, float, np.integer, np.floating)):
        return float(ts)
    secs = 0.0
    for part in str(ts).strip().split(':'):
        secs = secs * 60.0 + float(part)
    return secs


def read_epic_annotations(path: str, backend_args: Optional[dict] = None) -> List[dict]:
    """Read an official EPIC-100 annotation file (``.csv`` or pandas ``.pkl``) as row dicts.

    Columns as in ``EPIC_100_validation.csv``: ``narration_id, participant_id, video_id,
    narration_timestamp, start_timestamp, stop_timestamp, start_frame, stop_frame, narration,
    verb, verb_class, noun, noun_class, all_nouns, all_noun_classes`` (test files have no
    labels). The ``.pkl`` (index = narration_id) needs pandas. Read through ``mmengine.fileio``
    with ``backend_args`` (default None: local disk).

    Raises:
        FileNotFoundError: missing file.
        ValueError: naming the file (and the line): unknown extension, an empty file or one
            without rows, a row with more or fewer fields than the header (a cut-off file), a
            ``.pkl`` that does not unpickle or is not a pandas DataFrame, missing columns.
    """
    check_file(path, 'EPIC annotation file', backend_args)
    if path.endswith('.pkl'):
        try:
            import pandas as pd
        except ImportError as e:
            raise ImportError(f'reading {path} needs pandas (pip install pandas) or use the '
                              f'.csv version') from e
        with fileio.get_local_path(path, backend_args=backend_args) as local:
            try:
                df = pd.read_pickle(local)
            except Exception as err:
                raise ValueError(f'EPIC annotation file {path} does not unpickle: '
                                 f'{type(err).__name__}: {err}') from err
        if not isinstance(df, pd.DataFrame):
            raise ValueError(f'EPIC annotation file {path} holds a {type(df).__name__}, not a '
                             f'pandas DataFrame')
        if 'narration_id' not in df.columns:
            df = df.reset_index()
        rows = df.to_dict('records')
    elif path.endswith('.csv'):
        text = read_text(path, 'EPIC annotation file', backend_args)
        if not text.strip():
            raise ValueError(f'EPIC annotation file {path} is empty')
        reader = csv.DictReader(io.StringIO(text, newline=''))
        rows = []
        try:
            for r in reader:
                if None in r or None in r.values():  # extra fields / fields missing
                    n = (len(reader.fieldnames) + len(r.get(None) or ())
                         - sum(v is None for k, v in r.items() if k is not None))
                    raise ValueError(
                        f'{path}: line {reader.line_num} (narration_id '
                        f'{r.get("narration_id")!r}) has {n} fields, the header has '
                        f'{len(reader.fieldnames)} (cut-off or malformed row)')
                rows.append(r)
        except csv.Error as err:
            raise ValueError(f'{path}: line {reader.line_num}: {err}') from err
    else:
        raise ValueError(f'unsupported EPIC annotation file (need .csv or .pkl): {path}')
    if not rows:
        raise ValueError(f'EPIC annotation file {path} has no rows')
    required = ('narration_id', 'participant_id', 'video_id', 'start_timestamp',
                'stop_timestamp', 'start_frame', 'stop_frame')
    missing = [c for c in required if c not in rows[0]]
    if missing:
        raise ValueError(f'{path}: missing columns {missing}')
    return rows


def _as_int(value) -> int:
    """``int`` of an integer (``3``, ``'3'``, ``3.0``); ``ValueError`` for anything else
    (``'abc'``, ``''``, ``'3.5'``, NaN, None)."""
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        if not float(value).is_integer():
            raise ValueError(value)
        return int(value)
    return int(str(value).strip())


def _int_list(value) -> List[int]:
    items = ast.literal_eval(value) if isinstance(value, str) else value
    return [_as_int(x) for x in items]


def read_class_names(path: str, backend_args: Optional[dict] = None) -> List[str]:
    """``EPIC_100_{verb,noun}_classes.csv`` (columns ``id,key,...``) -> names ordered by id
    (read through ``mmengine.fileio`` with ``backend_args``)."""
    text = read_text(path, 'EPIC class file', backend_args)
    rows = list(csv.DictReader(io.StringIO(text, newline='')))
    ids = [int(r['id']) for r in rows]
    if sorted(ids) != list(range(len(ids))):
        raise ValueError(f'{path}: class ids are not 0..{len(ids) - 1}')
    names = [''] * len(ids)
    for i, r in zip(ids, rows):
        names[i] = r['key']
    return names


def epic_star_split(n: int, split: str, seed: int = 0, ratio: float = 0.9) -> np.ndarray:
    """Sorted row indices of the seeded ``ratio`` / ``1 - ratio`` split of ``n`` rows.

    ``np.random.default_rng(seed).permutation(n)``: the first ``round(ratio * n)`` are
    'epic_star_train', the rest 'epic_star_val' (disjoint, together all rows).
    """
    perm = np.random.default_rng(seed).permutation(n)
    n_train = int(round(ratio * n))
    if split == 'epic_star_train':
        return np.sort(perm[:n_train])
    if split == 'epic_star_val':
        return np.sort(perm[n_train:])
    raise ValueError(f"split must be None, 'epic_star_train' or 'epic_star_val', got {split!r}")


@DATASETS.register_module()
class EpicKitchens100Dataset(SampleNamingMixin, BaseActionDataset):
    """EPIC-KITCHENS-100 action recognition (one sample per narration segment).

    Each sample (results dict) has: ``modalities`` (tuple), ``label=dict(verb=int, noun=int)``
    (absent for unlabelled test files), ``start_index = start_frame`` (1-based),
    ``total_frames = stop_frame - start_frame + 1``, ``start_timestamp`` / ``stop_timestamp``
    (seconds, float), ``video_id``, ``participant_id``, ``narration_id``, and per modality:
    rgb: ``frame_dir`` + ``filename_tmpl`` (``rgb_source='frames'``) or ``filename``
    (``rgb_source='video'``); flow: ``flow_dir``, ``flow_filename_tmpl``, ``flow_components``,
    ``rgb_to_flow_ratio``; audio: ``audio_path``. Paths are ``osp.join(data_prefix[key],
    path_templates[key].format(**row))`` with keys ``rgb``, ``video``, ``flow``, ``audio``.

    Args:
        ann_file (str): ``EPIC_100_*.csv`` or ``.pkl``.
        pipeline (list): transforms.
        data_prefix (dict): roots per key ``rgb`` / ``video`` / ``flow`` / ``audio``.
        modalities (Sequence[str]): subset of ``('rgb', 'flow', 'audio')``.
        verb_classes_file / noun_classes_file (str, optional): class CSVs; give the names in
            metainfo ``verb_classes`` / ``noun_classes`` and the class counts (default 97 / 300).
        pruned_validation (bool): drop rows whose verb or noun class never occurs in
            ``train_ann_file`` (required then).
        train_ann_file (str, optional): training annotation file for ``pruned_validation``.
        split (str, optional): ``'epic_star_train'`` / ``'epic_star_val'``: seeded
            ``split_ratio`` / ``1 - split_ratio`` split of ``ann_file``'s rows (see
            :func:`epic_star_split`).
        rgb_source (str): ``'frames'`` or ``'video'``.
        path_templates (dict, optional): overrides of :data:`DEFAULT_PATH_TEMPLATES`.
        rgb_filename_tmpl (str): rgb frame names inside ``frame_dir``.
        flow_filename_tmpl (str): ``'{component}/frame_{idx:010d}.jpg'`` style, positional.
        flow_components (tuple): flow component names (``('u', 'v')``).
        rgb_to_flow_ratio (int): RGB frames per flow frame (2 for EPIC).
        backend_args (dict, optional): ``mmengine.fileio`` backend of the annotation files
            (default None: local disk), e.g. ``dict(backend='petrel')``; give the loaders the
            same ``backend_args`` for the media.

    Raises:
        ValueError: a class id outside ``[0, num_classes)`` (message names the file and the
            narration_id), a bad split name, ``pruned_validation`` without ``train_ann_file``;
            annotation faults naming the file, the narration_id and the column: a training set
            (``test_mode=False``) without ``verb_class`` / ``noun_class`` columns, only one of
            them, a non-integer frame, a bad timestamp, ``stop_frame < start_frame``,
            ``stop_timestamp < start_timestamp`` (and the faults of
            :func:`read_epic_annotations`).
        Any error while loading a sample (``dataset[i]``, also in a dataloader worker) is
        re-raised naming ``narration_id`` and the index first (:class:`SampleNamingMixin`).
    """

    def __init__(self,
                 ann_file: str,
                 pipeline: List[Union[dict, Callable]] = (),
                 data_prefix: Optional[Dict[str, str]] = None,
                 modalities: Sequence[str] = ('rgb', 'flow', 'audio'),
                 verb_classes_file: Optional[str] = None,
                 noun_classes_file: Optional[str] = None,
                 pruned_validation: bool = False,
                 train_ann_file: Optional[str] = None,
                 split: Optional[str] = None,
                 split_seed: int = 0,
                 split_ratio: float = 0.9,
                 rgb_source: str = 'frames',
                 path_templates: Optional[Dict[str, str]] = None,
                 rgb_filename_tmpl: str = 'frame_{:010d}.jpg',
                 flow_filename_tmpl: str = '{}/frame_{:010d}.jpg',
                 flow_components: Sequence[str] = ('u', 'v'),
                 rgb_to_flow_ratio: int = 2,
                 backend_args: Optional[dict] = None,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        unknown = set(modalities) - {'rgb', 'flow', 'audio'}
        if unknown:
            raise ValueError(f'EpicKitchens100Dataset: unsupported modalities {sorted(unknown)}')
        if rgb_source not in ('frames', 'video'):
            raise ValueError(f"rgb_source must be 'frames' or 'video', got {rgb_source!r}")
        if split is not None and split not in ('epic_star_train', 'epic_star_val'):
            raise ValueError(f"split must be None, 'epic_star_train' or 'epic_star_val', "
                             f'got {split!r}')
        if pruned_validation and not train_ann_file:
            raise ValueError('pruned_validation=True needs train_ann_file')
        self.modalities = tuple(modalities)
        self.backend_args = backend_args
        self.pruned_validation = pruned_validation
        self.train_ann_file = train_ann_file
        self.split = split
        self.split_seed = split_seed
        self.split_ratio = split_ratio
        self.rgb_source = rgb_source
        self.path_templates = dict(DEFAULT_PATH_TEMPLATES, **(path_templates or {}))
        self.rgb_filename_tmpl = rgb_filename_tmpl
        self.flow_filename_tmpl = flow_filename_tmpl
        self.flow_components = tuple(flow_components)
        self.rgb_to_flow_ratio = int(rgb_to_flow_ratio)

        verb_names = (read_class_names(verb_classes_file, backend_args)
                      if verb_classes_file else None)
        noun_names = (read_class_names(noun_classes_file, backend_args)
                      if noun_classes_file else None)
        meta = dict(
            verb_classes=tuple(verb_names) if verb_names else None,
            noun_classes=tuple(noun_names) if noun_names else None,
            num_verb_classes=len(verb_names) if verb_names else NUM_VERB_CLASSES,
            num_noun_classes=len(noun_names) if noun_names else NUM_NOUN_CLASSES)
        meta.update(metainfo or {})
        prefix = dict(rgb='', video='', flow='', audio='')
        prefix.update(data_prefix or {})
        super().__init__(ann_file, pipeline=list(pipeline), data_prefix=prefix,
                         test_mode=test_mode, metainfo=meta, start_index=1, **kwargs)

    def _check_class(self, row: dict, key: str, n: int, path: str) -> int:
        value = row.get(key)
        try:
            c = int(value)
        except (TypeError, ValueError):
            raise ValueError(f'{path}: narration_id {row.get("narration_id")}: '
                             f'{key} {value!r} is not an integer') from None
        if not 0 <= c < n:
            raise ValueError(f'{path}: narration_id {row.get("narration_id")}: {key} {c} '
                             f'outside the known range [0, {n})')
        return c

    def _field(self, row: dict, key: str, parse: Callable, what: str):
        value = row.get(key)
        try:
            return parse(value)
        except (TypeError, ValueError, SyntaxError):
            raise ValueError(f'{self.ann_file}: narration_id {row.get("narration_id")}: {key} '
                             f'{value!r} is not {what}') from None

    def load_data_list(self) -> List[dict]:
        rows = read_epic_annotations(self.ann_file, self.backend_args)
        has = [c for c in ('verb_class', 'noun_class') if c in rows[0]]
        labelled = len(has) == 2
        if len(has) == 1 or (not labelled and not self.test_mode):
            lacking = [c for c in ('verb_class', 'noun_class') if c not in has]
            raise ValueError(
                f'{self.ann_file}: missing columns {lacking}: '
                + ('a training set (test_mode=False) needs both labels; an unlabelled test file '
                   'is read with test_mode=True' if not self.test_mode else
                   'the file has only one of verb_class / noun_class'))
        if self.split is not None:
            rows = [rows[i] for i in epic_star_split(len(rows), self.split, self.split_seed,
                                                     self.split_ratio)]
        if self.pruned_validation:
            train = read_epic_annotations(self.train_ann_file, self.backend_args)
            nv, nn = self.metainfo['num_verb_classes'], self.metainfo['num_noun_classes']
            tv = {self._check_class(r, 'verb_class', nv, self.train_ann_file) for r in train}
            tn = {self._check_class(r, 'noun_class', nn, self.train_ann_file) for r in train}
            rows = [r for r in rows
                    if self._check_class(r, 'verb_class', nv, self.ann_file) in tv
                    and self._check_class(r, 'noun_class', nn, self.ann_file) in tn]
        nv, nn = self.metainfo['num_verb_classes'], self.metainfo['num_noun_classes']
        out = []
        for r in rows:
            start = self._field(r, 'start_frame', _as_int, 'an integer frame number')
            stop = self._field(r, 'stop_frame', _as_int, 'an integer frame number')
            if stop < start:
                raise ValueError(f'{self.ann_file}: narration_id {r["narration_id"]}: '
                                 f'stop_frame {stop} < start_frame {start}')
            t0 = self._field(r, 'start_timestamp', parse_timestamp, 'a timestamp HH:MM:SS.ff')
            t1 = self._field(r, 'stop_timestamp', parse_timestamp, 'a timestamp HH:MM:SS.ff')
            if t1 < t0:
                raise ValueError(f'{self.ann_file}: narration_id {r["narration_id"]}: '
                                 f'stop_timestamp {r["stop_timestamp"]} < start_timestamp '
                                 f'{r["start_timestamp"]}')
            fmt = {k: (v if isinstance(v, numbers.Number) else str(v)) for k, v in r.items()}
            info = dict(
                modalities=self.modalities,
                narration_id=str(r['narration_id']),
                participant_id=str(r['participant_id']),
                video_id=str(r['video_id']),
                start_frame=start, stop_frame=stop,
                start_index=start, total_frames=stop - start + 1,
                start_timestamp=t0, stop_timestamp=t1)
            if 'narration' in r:
                info['narration'] = str(r['narration'])
            if labelled:
                info['label'] = dict(
                    verb=self._check_class(r, 'verb_class', nv, self.ann_file),
                    noun=self._check_class(r, 'noun_class', nn, self.ann_file))
                if 'all_noun_classes' in r:
                    info['all_noun_classes'] = self._field(
                        r, 'all_noun_classes', _int_list, 'a list of integers')
            if 'rgb' in self.modalities:
                if self.rgb_source == 'video':
                    info['filename'] = osp.join(self.data_prefix['video'],
                                                self.path_templates['video'].format(**fmt))
                else:
                    info['frame_dir'] = osp.join(self.data_prefix['rgb'],
                                                 self.path_templates['rgb'].format(**fmt))
                    info['filename_tmpl'] = self.rgb_filename_tmpl
            if 'flow' in self.modalities:
                info['flow_dir'] = osp.join(self.data_prefix['flow'],
                                            self.path_templates['flow'].format(**fmt))
                info['flow_filename_tmpl'] = self.flow_filename_tmpl
                info['flow_components'] = self.flow_components
                info['rgb_to_flow_ratio'] = self.rgb_to_flow_ratio
            if 'audio' in self.modalities:
                info['audio_path'] = osp.join(self.data_prefix['audio'],
                                              self.path_templates['audio'].format(**fmt))
            out.append(info)
        return out

    def get_data_info(self, idx: int) -> dict:
        """Row ``idx`` (``start_index`` is per row, unlike ``BaseActionDataset``)."""
        info = BaseDataset.get_data_info(self, idx)
        info['modality'] = 'RGB'
        return info
