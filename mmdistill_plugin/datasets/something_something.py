# Copyright (c) mmdistill contributors.
"""Something-Something V2 (official json or Something-Else split json) with rgb / flow / boxes."""
import json
import os.path as osp
from typing import Callable, Dict, List, Optional, Sequence, Union

from mmengine import fileio
from mmengine.dataset import BaseDataset

from mmaction.datasets import BaseActionDataset
from mmaction.registry import DATASETS
from .sample_errors import SampleNamingMixin
from .schemas.base import loc_text
from .transforms._utils import check_frame_template, local_path, read_image, read_text, warn_once
from .transforms.loading import valid_box


class _DuplicateKey(Exception):
    pass


def _no_duplicate_keys(pairs):
    out = dict(pairs)
    if len(out) != len(pairs):
        seen = set()
        for k, _ in pairs:
            if k in seen:
                raise _DuplicateKey(k)
            seen.add(k)
    return out


def load_json(path: str, what: str, backend_args: Optional[dict] = None, expect=None):
    """Parsed json file ``path`` read through ``mmengine.fileio``.

    Args:
        expect (type, optional): ``list`` / ``dict``: the top-level type the file must have.

    Raises:
        FileNotFoundError: naming ``what`` and the path when it is missing.
        ValueError: naming ``what``, the path and the line / column for a file that is not
            utf-8 JSON (empty, cut off, malformed), a key that appears twice in one object
            (``json`` keeps the last silently), or a top level that is not ``expect``.
    """
    try:
        text = read_text(path, what, backend_args)
    except UnicodeDecodeError as err:
        raise ValueError(f'{what} {path} is not utf-8 text: {err}') from err
    if not text.strip():
        raise ValueError(f'{what} {path} is empty')
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicate_keys)
    except _DuplicateKey as err:
        raise ValueError(f'{what} {path}: key {err.args[0]!r} appears twice in one JSON object '
                         f'(the second would silently replace the first)') from None
    except json.JSONDecodeError as err:
        raise ValueError(f'{what} {path} is not valid JSON: {err.msg} (line {err.lineno}, '
                         f'column {err.colno}, char {err.pos} of {len(text)}; cut off or '
                         f'malformed?)') from err
    if expect is not None and not isinstance(data, expect):
        raise ValueError(f'{what} {path}: expected a JSON {expect.__name__} at the top level, '
                         f'got {type(data).__name__}')
    return data


def count_files(folder: str, select, backend_args: Optional[dict] = None) -> int:
    """Number of files directly in ``folder`` whose name passes ``select`` (0 if ``folder`` is
    not a directory), via ``mmengine.fileio.list_dir_or_file``."""
    if not fileio.isdir(folder, backend_args=backend_args):
        return 0
    return sum(1 for x in fileio.list_dir_or_file(folder, list_dir=False,
                                                  backend_args=backend_args) if select(x))


def template_key(template: str) -> str:
    """SSv2 json ``template`` -> ``labels.json`` key: drop the brackets
    (``'[Something] falling like a rock'`` -> ``'Something falling like a rock'``,
    ``'Putting [something] onto [something]'`` -> ``'Putting something onto something'``)."""
    return template.replace('[', '').replace(']', '')


def load_box_annotations(path: str, backend_args: Optional[dict] = None) -> Dict[str, dict]:
    """Something-Else ``annotations.json`` -> ``video_id -> dict(frames, num_objects, source)``.

    ``frames``: ``frame_number (int, 1-based, from "<id>/<frame:04d>.jpg") -> [(slot, category,
    x1, y1, x2, y2), ...]`` in pixels; ``slot`` = k for ``gt_annotation`` "object k", and
    ``num_objects`` (= ``len(gt_placeholders)``, at least max object k + 1) + j for the j-th hand
    of the frame; ``category`` 1 object, 2 hand. Read through ``mmengine.fileio`` with
    ``backend_args``.

    Boxes with a non-finite coordinate or ``x2 <= x1`` / ``y2 <= y1`` are dropped with one
    warning per video naming the file, the video and the frames.

    Raises:
        ValueError: malformed JSON (file, line, column) or a key twice in one object;
        AnnotationError (a ValueError): entries breaking
            :data:`~mmdistill_plugin.datasets.schemas.ssv2.BOX_FILE`, naming the file, the
            video, the frame entry, the field and the value: a video that is not a list of
            frames, a frame without a ``<video>/<n>.jpg`` name or listed twice, a label without
            ``box2d`` or with non-numeric coordinates, an unknown ``gt_annotation``, an
            ``object k`` beyond the frame's ``gt_placeholders``.
    """
    from .schemas import validate_records
    from .schemas.ssv2 import BOX_FILE
    data = load_json(path, 'box annotation file', backend_args, expect=dict)

    def where(loc):
        if len(loc) >= 2 and isinstance(loc[1], int):
            vid, k = loc[0], loc[1]
            frames = data.get(vid)
            name = frames[k].get('name') if isinstance(frames, list) and k < len(frames) and \
                isinstance(frames[k], dict) else None
            return (f'video {vid}: frame entry {k}' + (f' ({name})' if name else ''),
                    loc_text(loc[2:]))
        return (f'video {loc[0]}' if loc else 'the file', '')
    validate_records(BOX_FILE, data, path, where=where)
    out = {}
    for vid, frames in data.items():
        n_obj = 0
        dropped = []
        for fr in frames:
            n_obj = max(n_obj, len(fr.get('gt_placeholders') or ()))
            for lab in fr.get('labels', ()):
                ga = lab['gt_annotation']
                if ga[7:].isdigit():
                    n_obj = max(n_obj, int(ga[7:]) + 1)
        per_frame = {}
        for fr in frames:  # validated by BOX_FILE: names, box2d and gt_annotation are sound
            name = fr['name']
            num = int(osp.splitext(name.split('/')[-1])[0])
            boxes, hands = [], 0
            for lab in fr.get('labels', ()):
                ga = lab['gt_annotation']
                coords = tuple(float(lab['box2d'][c]) for c in ('x1', 'y1', 'x2', 'y2'))
                if ga == 'object hand':
                    slot, cat = n_obj + hands, 2
                    hands += 1
                else:
                    slot, cat = int(ga[7:]), 1
                if not valid_box(*coords):
                    dropped.append(f'{name} {ga} {coords}')
                    continue
                boxes.append((slot, cat) + coords)
            per_frame[num] = boxes
        if dropped:
            warn_once(f'boxes-invalid:{path}:{vid}',
                      f'{path}: video {vid}: dropped {len(dropped)} invalid box(es) (non-finite '
                      f'or x2 <= x1 / y2 <= y1), first: {dropped[0]}')
        out[str(vid)] = dict(frames=per_frame, num_objects=n_obj, source=path)
    return out


@DATASETS.register_module()
class SomethingSomethingV2Dataset(SampleNamingMixin, BaseActionDataset):
    """Something-Something V2 clips; label = ``labels_file[template_key(template)]``.

    Each sample (results dict) has: ``modalities``, ``video_id``, ``label`` (int; absent for an
    unlabelled test json), ``start_index=1`` (frame numbers are 1-based for frame folders and
    videos alike), ``total_frames`` (frame count of the folder ``{id}/`` or of the video by
    decord; computed on first access and cached), ``frame_size`` ``(H, W)`` when boxes are
    loaded; rgb: ``frame_dir`` = ``data_prefix['rgb']/{id}`` + ``filename_tmpl='{:04d}.jpg'``
    (``rgb_source='frames'``, Something-Else layout) or ``filename`` =
    ``data_prefix['video']/{id}{video_ext}`` (``'video'``); flow: ``flow_dir`` =
    ``data_prefix['flow']/{id}``, ``flow_filename_tmpl='{}_{:05d}.jpg'``,
    ``flow_components=('x', 'y')``, ``rgb_to_flow_ratio=1``, ``flow_total_frames =
    total_frames - 1`` (flow i between frames i and i+1); depth (the toy set; one 1-channel
    image per rgb frame): ``depth_dir`` = ``data_prefix['depth']/{id}`` +
    ``depth_filename_tmpl`` (default ``'{:05d}.png'``); boxes: ``boxes_info`` (see
    :func:`load_box_annotations`, plus ``frame_size``) or None for a video without boxes.

    Args:
        ann_file (str): SSv2 json list of ``{id, label, template, placeholders}`` (official or
            Something-Else split).
        labels_file (str): ``labels.json`` (template with "something" -> index, str or int).
        boxes_file (str, optional): Something-Else ``annotations.json``.
        rgb_source (str): ``'video'`` or ``'frames'``.
        allow_missing (bool): a missing rgb source gives ``total_frames`` from the flow folder
            (+1) or the annotated boxes instead of raising ``FileNotFoundError``.
        backend_args (dict, optional): ``mmengine.fileio`` backend of the annotation files and
            of the probed videos / frame folders (default None: local disk), e.g.
            ``dict(backend='petrel')``; give the loaders the same ``backend_args``.

    Raises:
        ValueError: a template not in ``labels_file`` (names the file, the id and the template);
            a malformed / cut-off json (names the file, line and column); an entry without
            ``id`` (names the file and the entry); a labels file whose values are not integers.
        FileNotFoundError: missing video / frame folder (path in the message).
        Any error while loading a sample (``dataset[i]``, also in a dataloader worker) is
        re-raised naming ``video_id`` and the index first (:class:`SampleNamingMixin`).
    """

    def __init__(self,
                 ann_file: str,
                 labels_file: str,
                 pipeline: List[Union[dict, Callable]] = (),
                 data_prefix: Optional[Dict[str, str]] = None,
                 modalities: Sequence[str] = ('rgb', 'flow', 'boxes'),
                 rgb_source: str = 'video',
                 boxes_file: Optional[str] = None,
                 video_ext: str = '.webm',
                 rgb_filename_tmpl: str = '{:04d}.jpg',
                 flow_filename_tmpl: str = '{}_{:05d}.jpg',
                 flow_components: Sequence[str] = ('x', 'y'),
                 depth_filename_tmpl: str = '{:05d}.png',
                 allow_missing: bool = False,
                 backend_args: Optional[dict] = None,
                 test_mode: bool = False,
                 metainfo: Optional[dict] = None,
                 **kwargs) -> None:
        unknown = set(modalities) - {'rgb', 'flow', 'boxes', 'depth'}
        if unknown:
            raise ValueError(f'SomethingSomethingV2Dataset: unsupported modalities '
                             f'{sorted(unknown)}')
        if rgb_source not in ('frames', 'video'):
            raise ValueError(f"rgb_source must be 'frames' or 'video', got {rgb_source!r}")
        if 'boxes' in modalities and not boxes_file:
            raise ValueError("modality 'boxes' needs boxes_file (Something-Else annotations.json)")
        self.modalities = tuple(modalities)
        self.labels_file = labels_file
        self.rgb_source = rgb_source
        self.boxes_file = boxes_file
        self.video_ext = video_ext
        self.rgb_filename_tmpl = check_frame_template(rgb_filename_tmpl, 'rgb_filename_tmpl')
        self.flow_filename_tmpl = check_frame_template(flow_filename_tmpl, 'flow_filename_tmpl',
                                                       with_component=True)
        self.flow_components = tuple(flow_components)
        self.depth_filename_tmpl = check_frame_template(depth_filename_tmpl,
                                                        'depth_filename_tmpl')
        self.allow_missing = allow_missing
        self.backend_args = backend_args
        self._frames_cache: Dict[str, tuple] = {}
        from .schemas import validate_records
        from .schemas.ssv2 import SSV2_LABELS
        labels = load_json(labels_file, 'SSv2 labels file', backend_args, expect=dict)
        self.label_map = validate_records(
            SSV2_LABELS, labels, labels_file, where=lambda loc: ('', '')).root
        n = max(self.label_map.values()) + 1
        names = [''] * n
        for k, v in self.label_map.items():
            names[v] = k
        meta = dict(classes=tuple(names), num_classes=n)
        meta.update(metainfo or {})
        self.box_annotations = (load_box_annotations(boxes_file, backend_args)
                                if boxes_file else {})
        prefix = dict(rgb='', video='', flow='', depth='')
        prefix.update(data_prefix or {})
        super().__init__(ann_file, pipeline=list(pipeline), data_prefix=prefix,
                         test_mode=test_mode, metainfo=meta, start_index=1, **kwargs)

    def load_data_list(self) -> List[dict]:
        from .schemas import validate_records
        from .schemas.ssv2 import SSV2_ENTRIES
        entries = load_json(self.ann_file, 'SSv2 annotation file', self.backend_args,
                            expect=list)
        if not entries:
            raise ValueError(f'SSv2 annotation file {self.ann_file} has no entries')

        def where(loc):
            if loc and isinstance(loc[0], int):
                e = entries[loc[0]]
                vid = e.get('id') if isinstance(e, dict) else None
                return (f'entry {loc[0]}' + (f' (id {vid!r})' if vid is not None else ''),
                        loc_text(loc[1:]))
            return 'the list', ''
        validated = validate_records(SSV2_ENTRIES, entries, self.ann_file, where=where).root
        if not self.test_mode and validated[0].template is None:
            raise ValueError(f'SSv2 annotation file {self.ann_file} has no "template" on any '
                             f'entry (an unlabelled test list): a training set '
                             f'(test_mode=False) needs labels; read it with test_mode=True')
        out = []
        for k, e in enumerate(validated):  # typed by the schema: id a str, template a str
            vid = e.id
            info = dict(modalities=self.modalities, video_id=vid, start_index=1)
            if e.template is not None:
                key = template_key(e.template)
                if key not in self.label_map:
                    raise ValueError(f'{self.ann_file}: entry {k} (id {vid!r}): template '
                                     f'{e.template!r} not in labels file {self.labels_file}')
                info['label'] = self.label_map[key]
                info['template'] = e.template
                info['placeholders'] = list(e.placeholders or ())
            # the rgb source is always recorded: it defines total_frames / frame_size
            if self.rgb_source == 'video':
                info['filename'] = osp.join(self.data_prefix['video'], vid + self.video_ext)
            else:
                info['frame_dir'] = osp.join(self.data_prefix['rgb'], vid)
                info['filename_tmpl'] = self.rgb_filename_tmpl
            if 'flow' in self.modalities:
                info['flow_dir'] = osp.join(self.data_prefix['flow'], vid)
                info['flow_filename_tmpl'] = self.flow_filename_tmpl
                info['flow_components'] = self.flow_components
                info['rgb_to_flow_ratio'] = 1
            if 'depth' in self.modalities:
                info['depth_dir'] = osp.join(self.data_prefix['depth'], vid)
                info['depth_filename_tmpl'] = self.depth_filename_tmpl
            if 'boxes' in self.modalities:
                info['has_boxes'] = vid in self.box_annotations
            out.append(info)
        return out

    def _probe(self, info: dict) -> tuple:
        """(total_frames, (H, W)) of the rgb source, cached per video."""
        vid = info['video_id']
        if vid in self._frames_cache:
            return self._frames_cache[vid]
        if self.rgb_source == 'video':
            path = info['filename']
            import decord
            with local_path(path, 'video file', self.backend_args) as local:
                try:
                    vr = decord.VideoReader(local, num_threads=1)
                    if len(vr) < 1:
                        raise RuntimeError('it has no frames')
                    n, (h, w) = len(vr), vr[0].shape[:2]
                except Exception as err:
                    raise RuntimeError(f'cannot decode video {path}: {err}') from err
                del vr
        else:
            d = info['frame_dir']
            if not fileio.isdir(d, backend_args=self.backend_args):
                raise FileNotFoundError(f'frame folder not found: {d}')
            ext = osp.splitext(self.rgb_filename_tmpl)[1]
            n = count_files(d, lambda x: x.endswith(ext), self.backend_args)
            if n == 0:
                raise FileNotFoundError(f'no {ext} frames in {d}')
            first = osp.join(d, self.rgb_filename_tmpl.format(1))
            h, w = read_image(first, 'unchanged', 'frame', self.backend_args).shape[:2]
        self._frames_cache[vid] = (n, (h, w))
        return n, (h, w)

    def _fallback_total(self, info: dict) -> int:
        if 'flow_dir' in info:
            pre = self.flow_components[0]
            n = count_files(info['flow_dir'], lambda x: x.startswith(pre), self.backend_args)
            if n:
                return n + 1
        box = self.box_annotations.get(info['video_id'])
        if box and box['frames']:
            return max(box['frames'])
        return 1

    def get_data_info(self, idx: int) -> dict:
        """Sample ``idx`` with ``total_frames`` / ``frame_size`` / ``boxes_info`` filled in."""
        info = BaseDataset.get_data_info(self, idx)
        info['modality'] = 'RGB'
        try:
            n, size = self._probe(info)
        except (FileNotFoundError, RuntimeError, ValueError):
            if not self.allow_missing:
                raise
            n, size = self._fallback_total(info), None
        info['total_frames'] = n
        info['frame_size'] = size
        if 'flow' in self.modalities:
            info['flow_total_frames'] = max(n - 1, 1)
        if 'boxes' in self.modalities:
            box = self.box_annotations.get(info['video_id'])
            info['boxes_info'] = None if box is None else dict(
                box, video_id=info['video_id'], frame_size=size)
        return info
