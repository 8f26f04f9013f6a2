# Copyright (c) mmdistill contributors.
"""Teacher-output cache: the frozen teacher's logits for K replayable views of every sample.

Written by ``tools/cache_teacher.py``, read by :class:`~mmdistill_plugin.datasets.
TeacherCacheDataset` (which replays one stored view per sample per epoch) and checked by
``DistillRecognizer(teacher_cache=...)`` (which then runs no teacher). Offline distillation in
the manner of FKD (Shen & Xing, ECCV 2022): the teacher is frozen, so its output on a view is a
function of the view alone and can be computed once.

Layout of a cache directory::

    meta.json            # stamp (see below), heads / tokens, K, shard size
    sample_ids.json      # the dataset's sample ids in order (names the first that changed)
    shard_00000.h5       # HDF5 (h5py): samples [s0, s0 + shard_size)
        sample_idx       int64 [n]
        sample_id        vlen UTF-8 [n]      the samples' ids (narration_id / video_id / ...)
        views            vlen UTF-8 [n, K]   JSON of each view's draws (frame_inds, crop_bbox,
                                             flip, color_jitter, ...) and modality_present
        logits/<head>    float16 [n, K, C]   teacher logits (pre-softmax), one per head
                                             (other storage codecs, meta ``codec``: the
                                             parts logits/<head>.<part>, see cache_codecs)
    shard_00000.h5.sha256  # SHA-256 of the shard, written after it (integrity on resume)

The stamp (:func:`check_stamp`) has sections ``teacher`` (config + checkpoint bytes) or
``extractors`` (weights), ``pipeline`` (teacher-side transforms), ``dataset`` (SHA-256 of every
annotation file's *content*, of the sample ids in order, their count), ``code`` (plugin version
and SHA-256 of the teacher-side source: ``models/`` and ``datasets/transforms/``) and ``run``
(AMP, view count K, shard size). A writer resuming into a directory must match all of them; a
reader refuses a cache whose ``pipeline``, ``dataset`` or ``code`` differ from its own, naming
each field that changed (and the first sample id that moved).

Shards are written to a temporary file and renamed; its digest is written next. A resumed run
checks every finished shard (:func:`verify_shard`: it opens, holds the expected samples, shapes
and finite values, and matches its digest) and rewrites the ones that do not; non-finite
outputs are refused when written and when read, naming the shard.

Bytes per sample-view: ``2 · Σ_heads C`` for the logits plus the view's
JSON (about 150–250 bytes; gzip-compressed in the file). EPIC-100 (97 verbs + 300 nouns):
794 bytes of logits per sample-view (top-k / 8-bit storage: :mod:`.cache_codecs`).
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from .cache_codecs import build_codec

FORMAT_VERSION = 2
META_FILE = 'meta.json'
IDS_FILE = 'sample_ids.json'
#: Transforms that only change what the student sees: they do not affect the teacher's views.
STUDENT_ONLY_TRANSFORMS = ('ModalityDropout', 'MissingModalities', 'ViewFrameIndices')


class StaleTeacherCacheError(RuntimeError):
    """A teacher cache written with another teacher checkpoint, pipeline or dataset."""


def _canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, default=str, separators=(',', ':'))


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(chunk), b''):
            h.update(block)
    return h.hexdigest()


def _checkpoints_in(cfg) -> List[str]:
    """Every ``checkpoint``/``teacher_ckpt`` file named inside a (teacher) config, sorted."""
    found = []

    def walk(node):
        if isinstance(node, dict):
            for k, v in node.items():
                if k in ('checkpoint', 'teacher_ckpt') and isinstance(v, str):
                    found.append(v)
                else:
                    walk(v)
        elif isinstance(node, (list, tuple)):
            for v in node:
                walk(v)

    walk(cfg)
    return sorted(set(found))


def teacher_fingerprint(teacher_cfg: dict, teacher_ckpt: Optional[str]) -> dict:
    """What identifies a frozen teacher: its config and the SHA-256 of each checkpoint file.

    ``teacher_ckpt`` may be a work dir (its ``last_checkpoint``); the members' checkpoints of a
    ``LogitEnsemble`` config count too. Files are identified by their bytes, not their paths
    (a moved checkpoint still matches); an absent file counts as ``'absent'``.
    """
    from mmdistill_plugin.models.utils import resolve_checkpoint
    hashes = []
    for path in ([teacher_ckpt] if teacher_ckpt else []) + _checkpoints_in(teacher_cfg):
        try:
            resolved = resolve_checkpoint(path)
        except FileNotFoundError:
            resolved = path
        hashes.append(file_sha256(resolved) if osp.isfile(resolved) else 'absent')
    config = hashlib.sha256(_canonical(teacher_cfg).encode()).hexdigest()
    return dict(config_sha256=config, checkpoint_sha256=sorted(hashes))


def pipeline_fingerprint(dataset_cfg: dict) -> dict:
    """What identifies the views: the teacher-side pipeline (student-only transforms such as
    ``ModalityDropout`` excluded)."""
    pipeline = [t for t in dataset_cfg.get('pipeline', [])
                if t.get('type') not in STUDENT_ONLY_TRANSFORMS]
    return dict(pipeline_sha256=hashlib.sha256(_canonical(pipeline).encode()).hexdigest())


def annotation_files(dataset_cfg: dict, dataset=None) -> Dict[str, str]:
    """``key -> path`` of every annotation file a dataset config names (``ann_file`` and every
    ``*_file`` key: ``labels_file``, ``boxes_file``, ``verb_classes_file``, ...), as the built
    ``dataset`` resolved it (``data_root`` joined) when given."""
    out = {}
    for key in sorted(dataset_cfg):
        if (key == 'ann_file' or key.endswith('_file')) and isinstance(dataset_cfg[key], str):
            path = getattr(dataset, key, None) if dataset is not None else None
            out[key] = path if isinstance(path, str) and path else dataset_cfg[key]
    return out


def content_sha256(path: str) -> str:
    """SHA-256 of a file's bytes through ``mmengine.fileio`` (``'absent'`` when missing)."""
    from mmengine import fileio
    if not fileio.exists(path):
        return 'absent'
    return hashlib.sha256(fileio.get(path)).hexdigest()


def sample_ids(dataset) -> List[str]:
    """The id of every sample in order (``narration_id`` / ``video_id`` / ``id``, else the
    index), from the annotation rows (no media is read). A wrapper that keeps its set's order
    (``MixedPairDataset``: sample ``i`` mixed with a partner) gives its wrapped set's ids."""
    from mmengine.dataset import BaseDataset
    while not isinstance(dataset, BaseDataset) and hasattr(dataset, 'dataset'):
        dataset = dataset.dataset
    keys = ('narration_id', 'annotation_id', 'video_id', 'id', 'frame_dir', 'filename')
    out = []
    for i in range(len(dataset)):
        info = BaseDataset.get_data_info(dataset, i)
        out.append(str(next((info[k] for k in keys if info.get(k) is not None), i)))
    return out


def dataset_fingerprint(dataset_cfg: dict, dataset, ids: Optional[List[str]] = None) -> dict:
    """What identifies the samples: the SHA-256 of each annotation file's content, of the
    sample ids in order, and their count (a reordered or edited annotation file changes it,
    a moved one does not)."""
    ids = sample_ids(dataset) if ids is None else ids
    return dict(annotations_sha256={k: content_sha256(p) for k, p in
                                    annotation_files(dataset_cfg, dataset).items()},
                sample_ids_sha256=hashlib.sha256('\n'.join(ids).encode()).hexdigest(),
                num_samples=len(ids))


#: source folders of the plugin whose code computes what a teacher / feature cache stores
TEACHER_SIDE_CODE = ('models', osp.join('datasets', 'transforms'))


def code_fingerprint() -> dict:
    """The teacher-side code version: plugin and MMAction2 versions and the SHA-256 of the
    plugin's teacher-side sources (:data:`TEACHER_SIDE_CODE`)."""
    import mmaction
    import mmdistill_plugin
    root = osp.dirname(osp.abspath(mmdistill_plugin.__file__))
    h = hashlib.sha256()
    for sub in TEACHER_SIDE_CODE:
        for dirpath, dirnames, files in sorted(os.walk(osp.join(root, sub))):
            dirnames.sort()
            for name in sorted(files):
                if name.endswith('.py'):
                    path = osp.join(dirpath, name)
                    h.update(osp.relpath(path, root).encode())
                    with open(path, 'rb') as f:
                        h.update(f.read())
    return dict(plugin_version=getattr(mmdistill_plugin, '__version__', 'unknown'),
                mmaction_version=getattr(mmaction, '__version__', 'unknown'),
                teacher_code_sha256=h.hexdigest())


def reader_stamp(dataset_cfg: dict, dataset) -> dict:
    """The stamp sections a reader of a cache checks (``pipeline``, ``dataset``, ``code``)."""
    return dict(pipeline=pipeline_fingerprint(dataset_cfg),
                dataset=dataset_fingerprint(dataset_cfg, dataset), code=code_fingerprint())


def read_meta(cache_dir: str) -> dict:
    """The stamp of a cache directory.

    Raises:
        FileNotFoundError: naming the directory when it holds no ``meta.json``.
    """
    path = osp.join(cache_dir, META_FILE)
    if not osp.isfile(path):
        raise FileNotFoundError(f'{cache_dir} is not a teacher cache (no {META_FILE}); write '
                                'one with tools/cache_teacher.py CONFIG --out DIR')
    with open(path) as f:
        return json.load(f)


def _differences(expected: dict, found: dict, prefix='') -> List[str]:
    out = []
    for k in sorted(set(expected) | set(found)):
        a, b = expected.get(k), found.get(k)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _differences(a, b, f'{prefix}{k}.')
        elif a != b:
            out.append(f'{prefix}{k}: cache {b!r}, now {a!r}')
    return out


def check_stamp(cache_dir: str, what: str, expected: dict, context: str = '') -> dict:
    """Compare the cache's ``meta[what]`` with ``expected``; return the meta.

    Raises:
        StaleTeacherCacheError: naming the cache, ``context`` (e.g. the teacher checkpoint in
            use) and every field that differs.
    """
    return check_stamps(cache_dir, {what: expected}, context)


def check_stamps(cache_dir: str, expected: Dict[str, dict], context: str = '',
                 ids: Optional[List[str]] = None) -> dict:
    """Compare several stamp sections (``{section: fields}``) with the cache's; return the meta.

    Args:
        ids: the current sample ids in order: when the ``dataset`` section differs, the
            message names the first id that moved (from the cache's ``sample_ids.json``).

    Raises:
        StaleTeacherCacheError: naming the cache, ``context`` and every field that differs
            (``section.field: cache X, now Y``), plus the format version when it differs.
    """
    meta = read_meta(cache_dir)
    diffs = []
    if meta.get('format_version') != FORMAT_VERSION:
        diffs.append(f'format_version: cache {meta.get("format_version")!r}, now '
                     f'{FORMAT_VERSION} (written by an older version of the plugin)')
    for what, fields in expected.items():
        diffs += _differences(fields, meta.get(what, {}), f'{what}.')
    if diffs and ids is not None and any(d.startswith('dataset.sample_ids') for d in diffs):
        diffs.append(_first_moved_id(cache_dir, ids))
    if diffs:
        what = ', '.join(w.replace('_', ' ') for w in expected)
        raise StaleTeacherCacheError(
            f'teacher cache {cache_dir} was written with another {what}'
            f'{" than " + context if context else ""}:\n  '
            + '\n  '.join(diffs) + '\nWrite it again with tools/cache_teacher.py / '
            'tools/extract_features.py into a new directory (or point the config at the right '
            'one).')
    return meta


def _first_moved_id(cache_dir: str, ids: List[str]) -> str:
    path = osp.join(cache_dir, IDS_FILE)
    if not osp.isfile(path):
        return f'sample ids: the cache has no {IDS_FILE}'
    with open(path) as f:
        old = json.load(f)
    for i, (a, b) in enumerate(zip(old, ids)):
        if a != b:
            return f'sample ids: index {i} is {a!r} in the cache, {b!r} now'
    return f'sample ids: the cache has {len(old)}, now {len(ids)}'


def shard_path(cache_dir: str, shard: int) -> str:
    return osp.join(cache_dir, f'shard_{shard:05d}.h5')


#: stamp sections compared when a writer resumes into an existing directory
WRITER_SECTIONS = ('teacher', 'extractors', 'pipeline', 'dataset', 'code', 'run')


def write_meta(cache_dir: str, meta: dict, ids: Optional[List[str]] = None) -> None:
    """Write ``meta.json`` (and ``sample_ids.json``) atomically; an existing one must hold the
    same stamp (every section of :data:`WRITER_SECTIONS` either holds) and layout.

    Raises:
        StaleTeacherCacheError: the directory holds a cache of another teacher / extractors /
            pipeline / dataset / code / AMP setting / view count (shards of two caches are
            never mixed), naming each field that differs.
    """
    os.makedirs(cache_dir, exist_ok=True)
    path = osp.join(cache_dir, META_FILE)
    if osp.isfile(path):
        old = read_meta(cache_dir)
        sections = {w: meta.get(w, {}) for w in WRITER_SECTIONS if w in meta or w in old}
        check_stamps(cache_dir, sections, context='this run', ids=ids)
        for key in ('heads', 'tokens', 'codec'):
            if old.get(key) != meta.get(key):
                raise StaleTeacherCacheError(
                    f'teacher cache {cache_dir} has {key}={old.get(key)!r}, this run '
                    f'{meta.get(key)!r}; use another --out directory')
        return
    if ids is not None:
        _atomic_json(osp.join(cache_dir, IDS_FILE), ids)
    _atomic_json(path, meta)


def _atomic_json(path: str, obj) -> None:
    tmp = f'{path}.{os.getpid()}.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=None if isinstance(obj, list) else 2, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class NonFiniteCacheError(ValueError):
    """Teacher / extractor outputs with NaN or inf values (refused when written and read)."""


def check_finite(arrays: Dict[str, np.ndarray], where: str, float16: bool = True) -> None:
    """Raise :class:`NonFiniteCacheError` naming ``where`` and the output when a value of
    ``arrays`` is NaN / inf, or (``float16``) finite but outside float16's range (it would be
    stored as inf)."""
    for name, arr in arrays.items():
        a = np.asarray(arr)
        bad = ~np.isfinite(a)
        if bad.any():
            raise NonFiniteCacheError(f'{where}: {name} has {int(bad.sum())} non-finite value(s) '
                                      f'(NaN / inf) of {a.size}')
        if float16 and a.size and np.abs(a).max() > np.finfo(np.float16).max:
            raise NonFiniteCacheError(
                f'{where}: {name} has values up to {float(np.abs(a).max()):.4g}, beyond float16 '
                f'(65504): they would be stored as inf')


def write_shard(cache_dir: str, shard: int, sample_idx: Sequence[int],
                views: Sequence[Sequence[dict]], logits: Dict[str, np.ndarray],
                group: str = 'logits', ids: Optional[Sequence[str]] = None,
                codec=None) -> str:
    """Write one shard (temporary file, then rename), then its digest; return its path.

    Args:
        sample_idx: ``[n]`` dataset indices.
        views: ``n`` lists of ``K`` view dicts.
        logits: ``name -> [n, K, ...]`` arrays (stored as float16), e.g. teacher logits per
            head ``[n, K, C]`` or frozen-extractor tokens per modality ``[n, K, Θ, C]``.
        group: the HDF5 group holding them (``'logits'`` or ``'tokens'``).
        ids: ``[n]`` sample ids (checked by the reader against the dataset's).
        codec: a storage codec (:func:`.cache_codecs.build_codec`); None / fp16: float16.

    Raises:
        NonFiniteCacheError: a NaN / inf value, or one beyond float16's range (nothing is
            written).
    """
    import h5py
    path = shard_path(cache_dir, shard)
    check_finite(logits, f'shard {osp.basename(path)} (samples {sample_idx[0]}..'
                         f'{sample_idx[-1]})')
    tmp = f'{path}.{os.getpid()}.tmp'
    with h5py.File(tmp, 'w') as f:
        f.create_dataset('sample_idx', data=np.asarray(sample_idx, np.int64))
        if ids is not None:
            f.create_dataset('sample_id', data=np.array(list(ids), dtype=object),
                             dtype=h5py.string_dtype('utf-8'))
        text = np.array([[_canonical(v) for v in row] for row in views], dtype=object)
        f.create_dataset('views', data=text, dtype=h5py.string_dtype('utf-8'),
                         compression='gzip')
        grp = f.create_group(group)
        codec = build_codec(codec)
        for head, arr in logits.items():
            for part, data in codec.encode(arr).items():  # fp16: one part named ''
                grp.create_dataset(f'{head}.{part}' if part else head, data=data,
                                   chunks=(1, ) + tuple(np.shape(data)[1:]))
    os.replace(tmp, path)
    digest = path + DIGEST_SUFFIX
    with open(f'{digest}.tmp', 'w') as f:
        f.write(file_sha256(path) + '\n')
    os.replace(f'{digest}.tmp', digest)
    return path


# ------------------------------------------------------------------ shard integrity
DIGEST_SUFFIX = '.sha256'


def verify_shard(cache_dir: str, shard: int, meta: dict, group: str,
                 full: bool = True) -> Optional[str]:
    """Why shard ``shard`` of a cache is not intact, or None when it is.

    Intact: the file opens; ``sample_idx`` is exactly the shard's range; ``views`` and every
    array of ``group`` (the names and per-view shapes of ``meta``'s heads / tokens, as parts of
    ``meta['codec']`` when it is not float16) have one row per sample and K views; with
    ``full``, its SHA-256 matches the digest written after it and every stored value is finite.
    """
    import h5py
    path = shard_path(cache_dir, shard)
    n_total, size, k = int(meta['num_samples']), int(meta['shard_size']), int(meta['views'])
    want = list(range(shard * size, min(n_total, (shard + 1) * size)))
    shapes = meta['heads'] if group == 'logits' else meta.get(group, {})
    codec = build_codec(meta.get('codec'))
    if full:
        digest = path + DIGEST_SUFFIX
        if not osp.isfile(digest):
            return f'no digest {osp.basename(digest)} (written after the shard: torn run)'
        with open(digest) as f:
            if f.read().strip() != file_sha256(path):
                return 'its SHA-256 differs from its digest (torn or modified file)'
    try:
        with h5py.File(path, 'r') as f:
            if f['sample_idx'][:].tolist() != want:
                return f'it holds samples other than {want[0]}..{want[-1]}'
            if f['views'].shape != (len(want), k):
                return f'views has shape {f["views"].shape}, not {(len(want), k)}'
            for name, shape in shapes.items():
                per = tuple(shape) if isinstance(shape, (list, tuple)) else (int(shape), )
                # the stored parts of this output and their per-view shapes (fp16: one, '')
                parts = codec.encode(np.zeros((1, 1) + per, np.float32))
                for part, like in parts.items():
                    key = f'{name}.{part}' if part else name
                    arr = f[group][key]
                    expect = (len(want), k) + like.shape[2:]
                    if arr.shape != expect:
                        return f'{group}/{key} has shape {arr.shape}, not {expect}'
                    if full and not np.isfinite(arr[...]).all():
                        return f'{group}/{key} holds non-finite values'
    except (OSError, KeyError, ValueError) as err:
        return f'it does not read: {type(err).__name__}: {err}'
    return None


class TeacherCacheReader:
    """Random access to a cache: ``reader.get(sample_idx, view)`` → (view dict, logits).

    HDF5 files are opened lazily in the process that reads them (each dataloader worker opens
    its own handles after the fork), read-only, so workers read concurrently.

    Raises:
        FileNotFoundError: the cache lacks the shard of a requested sample (the cache run did
            not finish: resume ``tools/cache_teacher.py``).
        RuntimeError: a shard that does not open (torn), or whose row holds another sample
            (index or id), naming the shard.
        NonFiniteCacheError: NaN / inf logits or tokens, naming the shard, row, sample, view.
    """

    def __init__(self, cache_dir: str, group: str = 'logits') -> None:
        self.cache_dir = cache_dir
        self.group = group
        self.meta = read_meta(cache_dir)
        self.views = int(self.meta['views'])
        self.shard_size = int(self.meta['shard_size'])
        self.heads = dict(self.meta['heads'] if group == 'logits' else self.meta[group])
        self.codec = build_codec(self.meta.get('codec'))
        self._files = {}
        self._pid = None

    def _file(self, shard: int):
        import h5py
        if self._pid != os.getpid():  # forked into a worker: do not share handles
            self._files, self._pid = {}, os.getpid()
        if shard not in self._files:
            path = shard_path(self.cache_dir, shard)
            if not osp.isfile(path):
                raise FileNotFoundError(f'teacher cache {self.cache_dir} has no '
                                        f'{osp.basename(path)}'
                                        ': the cache run did not finish; run tools/'
                                        'cache_teacher.py again (it skips finished shards)')
            try:
                self._files[shard] = h5py.File(path, 'r')
            except OSError as err:
                raise RuntimeError(f'teacher cache shard {path} does not open (torn or '
                                   f'truncated?): {err}; run the cache tool again: it checks '
                                   f'every shard and rewrites this one') from err
        return self._files[shard]

    def get(self, sample_idx: int, view: int, sample_id: Optional[str] = None):
        """``(view dict, dict(name -> float16 array))`` of one stored view (``name``: a head
        ``[C]`` for teacher logits, a modality ``[Θ, C]`` for tokens); ``sample_id``, when
        given, must be the id stored with the row."""
        shard, row = divmod(int(sample_idx), self.shard_size)
        f = self._file(shard)
        where = f'teacher cache shard {shard_path(self.cache_dir, shard)} row {row}'
        if int(f['sample_idx'][row]) != int(sample_idx):
            raise RuntimeError(f'{where} holds sample {int(f["sample_idx"][row])}, not '
                               f'{sample_idx}')
        if sample_id is not None and 'sample_id' in f:
            stored = f['sample_id'][row]
            stored = stored.decode() if isinstance(stored, bytes) else str(stored)
            if stored != str(sample_id):
                raise RuntimeError(f'{where} holds sample {stored!r}, the dataset has '
                                   f'{sample_id!r} at index {sample_idx}: the annotation file '
                                   f'changed since the cache was written')
        text = f['views'][row, view]
        text = text.decode() if isinstance(text, bytes) else text
        if self.codec.name == 'fp16':
            logits = {h: f[self.group][h][row, view] for h in self.heads}
        else:
            grp = f[self.group]
            logits = {h: self.codec.decode(
                {k.split('.', 1)[1]: grp[k][row, view] for k in grp if k.startswith(h + '.')},
                int(np.ravel(self.heads[h])[-1])) for h in self.heads}
        check_finite(logits, f'{where} (sample {sample_idx}, view {view})', float16=False)
        return json.loads(text), logits

    def __getstate__(self):  # picklable for dataloader workers (spawn): no open handles
        state = dict(self.__dict__)
        state['_files'], state['_pid'] = {}, None
        return state


def state_sha256(modules) -> str:
    """SHA-256 of the tensors of ``modules`` (name, dtype, shape, bytes): identifies frozen
    feature extractors by their weights, wherever they were loaded from."""
    import torch
    h = hashlib.sha256()
    for module in modules:
        for name, t in sorted(module.state_dict().items()):
            t = t.detach().cpu().contiguous()
            h.update(f'{name}:{t.dtype}:{tuple(t.shape)}'.encode())
            h.update((t.float() if t.dtype == torch.bfloat16 else t).numpy().tobytes())
    return h.hexdigest()


def finished_shards(cache_dir: str) -> Iterable[int]:
    """Indices of the shard files present (renamed into place; see :func:`verify_shard`)."""
    if not osp.isdir(cache_dir):
        return []
    return sorted(int(n[6:11]) for n in os.listdir(cache_dir)
                  if n.startswith('shard_') and n.endswith('.h5'))


def intact_shards(cache_dir: str, meta: dict, group: str, full: bool = True,
                  log=print) -> List[int]:
    """The finished shards that :func:`verify_shard` accepts; a torn one is named through
    ``log`` and deleted (with its digest) so that it is written again."""
    out = []
    for shard in finished_shards(cache_dir):
        why = verify_shard(cache_dir, shard, meta, group, full)
        if why is None:
            out.append(shard)
            continue
        log(f'cache {cache_dir}: {osp.basename(shard_path(cache_dir, shard))} is not intact '
            f'({why}): writing it again')
        for p in (shard_path(cache_dir, shard), shard_path(cache_dir, shard) + DIGEST_SUFFIX):
            if osp.exists(p):
                os.remove(p)
    return out


class _Views:
    """``(sample, view)`` pairs of one shard through the dataset's pipeline (a torch Dataset)."""

    def __init__(self, dataset, items):
        self.dataset, self.items = dataset, items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        idx, _ = self.items[i]
        prepare = getattr(self.dataset, 'prepare_view', None)  # e.g. MixedPairDataset
        if prepare is not None:
            return prepare(idx)
        return self.dataset.pipeline(self.dataset.get_data_info(idx))


def _seed_worker(worker_id):
    import random

    import torch
    np.random.seed(torch.initial_seed() % 2**32)
    random.seed(torch.initial_seed() % 2**32)  # MMAction2's RandomResizedCrop offsets


def validate_cache_args(views: int, shard_size: int, batch_size: Optional[int] = None,
                        num_workers: Optional[int] = None) -> None:
    """Refuse cache-writer arguments that cannot give a usable cache, before anything exists.

    Raises:
        ValueError: ``views < 1``, ``shard_size < 1``, ``batch_size < 1``, ``num_workers < 0``.
    """
    for name, value, low in (('views', views, 1), ('shard_size', shard_size, 1),
                             ('batch_size', batch_size, 1), ('num_workers', num_workers, 0)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)
                                  or value < low):
            raise ValueError(f'{name} must be an integer >= {low}, got {value!r} (nothing was '
                             f'written)')


def fill_cache(out: str, dataset, run_batch, shapes: Dict[str, tuple], meta: dict,
               group: str = 'logits', views: int = 4, shard_size: int = 256,
               batch_size: int = 8, num_workers: int = 0, seed: int = 0,
               dataset_cfg: Optional[dict] = None, amp: bool = False,
               verify: bool = True, codec=None) -> None:
    """Write the missing shards of a cache (shared by ``tools/cache_teacher.py`` and
    ``tools/extract_features.py``): rank 0 writes (or checks) ``meta.json``, each rank takes
    shards ``s ≡ rank (mod world)``, intact finished shards are skipped, torn ones rewritten
    (:func:`intact_shards`), progress is shown.

    Args:
        out: the cache directory (created only once the arguments and the stamp are checked).
        dataset: a built dataset whose pipeline records views (``ViewFrameIndices`` inserted).
        run_batch: ``list of packed samples -> (dict(name -> np [b, ...]), data_samples)``.
        shapes: ``name -> per-view shape`` of what ``run_batch`` returns.
        meta: the ``teacher`` / ``extractors`` fingerprint, ``heads`` / ``tokens`` and
            informative keys; the ``pipeline``, ``dataset``, ``code`` and ``run`` sections,
            ``views``, ``shard_size`` and ``num_samples`` are added.
        dataset_cfg: the dataset's config (pipeline and annotation files of the stamp).
        amp: the forward ran under autocast (part of the stamp).
        verify: check finished shards fully (digest and values) on resume; False checks their
            structure only.
        codec: storage of the arrays (:func:`.cache_codecs.build_codec`; None = float16),
            recorded as ``meta['codec']`` unless float16.

    Raises:
        ValueError: bad ``views`` / ``shard_size`` / ``batch_size`` / ``num_workers``.
        StaleTeacherCacheError: ``out`` holds a cache with another stamp (or storage codec).
        NonFiniteCacheError: a NaN / inf output, naming the sample, its id and the view
            (the shard is not written).
    """
    import math
    import random

    import torch
    from mmengine.dist import barrier, get_dist_info
    from mmengine.utils import ProgressBar
    validate_cache_args(views, shard_size, batch_size, num_workers)
    rank, world = get_dist_info()
    n = len(dataset)
    ids = sample_ids(dataset)
    dataset_cfg = dataset_cfg or {}
    meta = dict(meta, format_version=FORMAT_VERSION, views=views, shard_size=shard_size,
                num_samples=n, pipeline=pipeline_fingerprint(dataset_cfg),
                dataset=dataset_fingerprint(dataset_cfg, dataset, ids), code=code_fingerprint(),
                run=dict(amp=bool(amp), views=int(views), shard_size=int(shard_size)))
    codec = build_codec(codec)
    if codec.name != 'fp16':
        meta['codec'] = codec.meta()
    if rank == 0:
        write_meta(out, meta, ids)
    barrier()
    if rank != 0:
        check_stamps(out, {w: meta[w] for w in WRITER_SECTIONS if w in meta},
                     context='this run', ids=ids)
    num_shards = math.ceil(n / shard_size)
    done = set(intact_shards(out, meta, group, verify) if rank == 0 else
               [s for s in finished_shards(out) if s % world == rank
                and verify_shard(out, s, meta, group, verify) is None])
    mine = [s for s in range(num_shards) if s % world == rank and s not in done]
    if rank == 0:
        print(f'cache {out}: {n} samples x {views} views, {num_shards} shards '
              f'({len(done)} already written)', flush=True)
    total = sum(min(shard_size, n - s * shard_size) for s in mine) * views
    progress = ProgressBar(total) if rank == 0 and total else None
    for shard in mine:
        idxs = list(range(shard * shard_size, min(n, (shard + 1) * shard_size)))
        items = [(i, k) for i in idxs for k in range(views)]
        np.random.seed(seed + shard)
        random.seed(seed + shard)  # python's RNG draws crop offsets: the same seed, same views
        torch.manual_seed(seed + shard)
        loader = torch.utils.data.DataLoader(
            _Views(dataset, items), batch_size=batch_size, num_workers=num_workers,
            collate_fn=lambda b: b, worker_init_fn=_seed_worker,
            generator=torch.Generator().manual_seed(seed + shard))
        arrays = {h: np.zeros((len(idxs), views) + tuple(shape), np.float32)
                  for h, shape in shapes.items()}
        stored = [[None] * views for _ in idxs]
        pos = 0
        for batch in loader:
            values, samples = run_batch(batch)
            for j, ds in enumerate(samples):
                i, k = items[pos + j]
                check_finite({h: values[h][j] for h in shapes},
                             f'{out}: output of sample {ids[i]!r} (index {i}, view {k}, shard '
                             f'{shard}; nothing written for this shard)')
                stored[i - idxs[0]][k] = dict(
                    draws=ds.metainfo.get('view', {}),
                    modality_present=ds.metainfo.get('modality_present', {}))
                for h in shapes:
                    arrays[h][i - idxs[0], k] = values[h][j]
            pos += len(batch)
            if progress is not None:
                for _ in batch:
                    progress.update()
        write_shard(out, shard, idxs, stored, arrays, group=group,
                    ids=[ids[i] for i in idxs], codec=codec)
    barrier()
    if rank == 0:
        print(f'\ncache complete: {out}', flush=True)
