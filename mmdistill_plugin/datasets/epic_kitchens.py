# Copyright (c) mmdistill contributors.
"""EPIC-KITCHENS-100 action segments (verb + noun) with rgb / flow / audio paths."""
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
from .schemas.base import as_int, literal_list, timestamp_seconds
from .transforms._utils import check_file, check_frame_template, read_text

NUM_VERB_CLASSES = 97
NUM_NOUN_CLASSES = 300

DEFAULT_PATH_TEMPLATES = dict(
    rgb='{participant_id}/rgb_frames/{video_id}',        # + rgb_filename_tmpl
    video='{participant_id}/videos/{video_id}.MP4',
    flow='{participant_id}/flow_frames/{video_id}',      # + flow_filename_tmpl
    audio='{participant_id}/audio/{video_id}.wav')


def parse_timestamp(ts: Union[str, float, int]) -> float:
    """``'HH:MM:SS.ff'`` (or ``'MM:SS.ff'`` / seconds) -> seconds (float).

    Raises:
        ValueError: not a non-negative timestamp (``'-00:00:01.00'``, ``'00:00:xx'``).
    """
    return timestamp_seconds(ts)


def read_epic_annotations(path: str, backend_args: Optional[dict] = None,
                          num_verb_classes: int = NUM_VERB_CLASSES,
                          num_noun_classes: int = NUM_NOUN_CLASSES) -> List[dict]:
    """Read an official EPIC-100 annotation file (``.csv`` or pandas ``.pkl``) as row dicts,
    validated against :func:`~mmdistill_plugin.datasets.schemas.epic.epic_actions_schema`.

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
        AnnotationError (a ValueError): the rows break the schema (duplicate ids, negative or
            malformed timestamps, frames < 1, stop before start, frames that disagree with the
            timestamps, class ids outside ``[0, num_*_classes)``, ids that do not nest,
            inconsistent redundant label fields); names the file, line, narration_id, field,
            value and rule of each failure (docs/reliability.md, "Annotation schemas").
    """
    check_file(path, 'EPIC annotation file', backend_args)
    lines = None
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
        rows, lines = [], []
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
                lines.append(reader.line_num)
        except csv.Error as err:
            raise ValueError(f'{path}: line {reader.line_num}: {err}') from err
    else:
        raise ValueError(f'unsupported EPIC annotation file (need .csv or .pkl): {path}')
    if not rows:
        raise ValueError(f'EPIC annotation file {path} has no rows')
    from .schemas import validate_table
    from .schemas.epic import epic_actions_schema
    validate_table(_frame(rows), epic_actions_schema(num_verb_classes, num_noun_classes), path,
                   where=_where(rows, lines, 'narration_id'))
    return rows


def _frame(rows: List[dict]):
    """The rows as an object DataFrame (values as read) for the schema."""
    import pandas as pd
    return pd.DataFrame.from_records(rows).astype(object)


def _where(rows: List[dict], lines: Optional[List[int]], key: str) -> Callable:
    """``index -> "line 3 (narration_id 'P01_01_1')"`` (``row 2 (...)`` for a pickle)."""
    def where(i):
        try:
            i = int(i)
            place = f'line {lines[i]}' if lines is not None else f'row {i}'
            return f'{place} ({key} {rows[i].get(key)!r})'
        except (TypeError, ValueError, IndexError):
            return 'the table'
    return where


def read_epic_sounds(path: str, backend_args: Optional[dict] = None,
                     num_classes: int = 44, sample_rate: int = 24000) -> List[dict]:
    """Read an EPIC-SOUNDS annotation CSV (``EPIC_Sounds_validation.csv``; the recognition
    test file has no ``class`` / ``class_id``) as row dicts with typed values:
    ``annotation_id, participant_id, video_id, start_timestamp / stop_timestamp`` (seconds,
    float), ``start_sample / stop_sample`` (int, at ``sample_rate``), ``description``,
    ``class``, ``class_id`` (int; labelled files).

    Raises:
        FileNotFoundError / ValueError: as :func:`read_epic_annotations`;
        AnnotationError: rows breaking
        :func:`~mmdistill_plugin.datasets.schemas.epic.epic_sounds_schema` (duplicate ids,
        samples that are not the timestamps x ``sample_rate``, empty segments, classes that
        disagree with class ids, ...).
    """
    from .schemas import validate_table
    from .schemas.epic import epic_sounds_schema
    text = read_text(path, 'EPIC-SOUNDS annotation file', backend_args)
    if not text.strip():
        raise ValueError(f'EPIC-SOUNDS annotation file {path} is empty')
    reader = csv.DictReader(io.StringIO(text, newline=''))
    rows, lines = [], []
    for r in reader:
        if None in r or None in r.values():
            raise ValueError(f'{path}: line {reader.line_num} (annotation_id '
                             f'{r.get("annotation_id")!r}): the row does not have the '
                             f'{len(reader.fieldnames)} fields of the header (cut-off or '
                             f'malformed row)')
        rows.append(r)
        lines.append(reader.line_num)
    if not rows:
        raise ValueError(f'EPIC-SOUNDS annotation file {path} has no rows')
    validate_table(_frame(rows), epic_sounds_schema(num_classes, sample_rate=sample_rate), path,
                   where=_where(rows, lines, 'annotation_id'))
    out = []
    for r in rows:
        r = dict(r, start_timestamp=timestamp_seconds(r['start_timestamp']),
                 stop_timestamp=timestamp_seconds(r['stop_timestamp']),
                 start_sample=as_int(r['start_sample']), stop_sample=as_int(r['stop_sample']))
        if 'class_id' in r:
            r['class_id'] = as_int(r['class_id'])
        out.append(r)
    return out


def read_class_names(path: str, backend_args: Optional[dict] = None) -> List[str]:
    """``EPIC_100_{verb,noun}_classes.csv`` (columns ``id,key,...``) -> names ordered by id
    (read through ``mmengine.fileio`` with ``backend_args``).

    Raises:
        AnnotationError: rows breaking
            :data:`~mmdistill_plugin.datasets.schemas.epic.EPIC_CLASSES` (ids not exactly
            0..n-1, duplicate ids or names), naming the file, line, field and value.
    """
    from .schemas import validate_table
    from .schemas.epic import EPIC_CLASSES
    text = read_text(path, 'EPIC class file', backend_args)
    reader = csv.DictReader(io.StringIO(text, newline=''))
    rows, lines = [], []
    for r in reader:
        rows.append(r)
        lines.append(reader.line_num)
    if not rows:
        raise ValueError(f'EPIC class file {path} has no rows')
    validate_table(_frame(rows), EPIC_CLASSES, path, where=_where(rows, lines, 'key'))
    names = [''] * len(rows)
    for r in rows:
        names[as_int(r['id'])] = r['key']
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
        self.rgb_filename_tmpl = check_frame_template(rgb_filename_tmpl, 'rgb_filename_tmpl')
        self.flow_filename_tmpl = check_frame_template(flow_filename_tmpl, 'flow_filename_tmpl',
                                                       with_component=True)
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

    def load_data_list(self) -> List[dict]:
        nv, nn = self.metainfo['num_verb_classes'], self.metainfo['num_noun_classes']
        rows = read_epic_annotations(self.ann_file, self.backend_args, nv, nn)
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
            train = read_epic_annotations(self.train_ann_file, self.backend_args, nv, nn)
            if not all(c in train[0] for c in ('verb_class', 'noun_class')):
                raise ValueError(f'{self.train_ann_file}: train_ann_file of pruned_validation '
                                 f'has no verb_class / noun_class columns')
            tv = {as_int(r['verb_class']) for r in train}
            tn = {as_int(r['noun_class']) for r in train}
            rows = [r for r in rows
                    if as_int(r['verb_class']) in tv and as_int(r['noun_class']) in tn]
        out = []
        for r in rows:  # validated by the schema: the conversions below cannot fail
            start, stop = as_int(r['start_frame']), as_int(r['stop_frame'])
            t0 = timestamp_seconds(r['start_timestamp'])
            t1 = timestamp_seconds(r['stop_timestamp'])
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
                info['label'] = dict(verb=as_int(r['verb_class']),
                                     noun=as_int(r['noun_class']))
                if 'all_noun_classes' in r:
                    info['all_noun_classes'] = [as_int(x)
                                                for x in literal_list(r['all_noun_classes'])]
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
