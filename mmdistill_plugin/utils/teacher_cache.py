# Copyright (c) mmdistill contributors.
"""Teacher-output cache: the frozen teacher's logits for K replayable views of every sample.

Written by ``tools/cache_teacher.py``, read by :class:`~mmdistill_plugin.datasets.
TeacherCacheDataset` (which replays one stored view per sample per epoch) and checked by
``DistillRecognizer(teacher_cache=...)`` (which then runs no teacher). Offline distillation in
the manner of FKD (Shen & Xing, ECCV 2022): the teacher is frozen, so its output on a view is a
function of the view alone and can be computed once.

Layout of a cache directory::

    meta.json            # stamp: format, teacher and pipeline fingerprints, heads, K, shards
    shard_00000.h5       # HDF5 (h5py): samples [s0, s0 + shard_size)
        sample_idx       int64 [n]
        views            vlen UTF-8 [n, K]   JSON of each view's draws (frame_inds, crop_bbox,
                                             flip, color_jitter, ...) and modality_present
        logits/<head>    float16 [n, K, C]   teacher logits (pre-softmax), one per head

Shards are written to a temporary file and renamed, so a finished shard is complete and a
resumed run skips it. Bytes per sample-view: ``2 · Σ_heads C`` for the logits plus the view's
JSON (about 150–250 bytes; gzip-compressed in the file). EPIC-100 (97 verbs + 300 nouns):
794 bytes of logits per sample-view.
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

FORMAT_VERSION = 1
META_FILE = 'meta.json'
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


def pipeline_fingerprint(dataset_cfg: dict, num_samples: int) -> dict:
    """What identifies the views: the dataset's annotation file, size and teacher-side pipeline
    (student-only transforms such as ``ModalityDropout`` excluded)."""
    pipeline = [t for t in dataset_cfg.get('pipeline', [])
                if t.get('type') not in STUDENT_ONLY_TRANSFORMS]
    return dict(pipeline_sha256=hashlib.sha256(_canonical(pipeline).encode()).hexdigest(),
                ann_file=str(dataset_cfg.get('ann_file')), num_samples=int(num_samples))


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
    meta = read_meta(cache_dir)
    found = meta.get(what, {})
    diffs = _differences(expected, found)
    if diffs:
        raise StaleTeacherCacheError(
            f'teacher cache {cache_dir} was written with another {what.replace("_", " ")}'
            f'{" than " + context if context else ""}:\n  '
            + '\n  '.join(diffs) + '\nWrite it again with tools/cache_teacher.py (or point '
            'teacher_cache at the right directory).')
    return meta


def shard_path(cache_dir: str, shard: int) -> str:
    return osp.join(cache_dir, f'shard_{shard:05d}.h5')


def write_meta(cache_dir: str, meta: dict) -> None:
    """Write ``meta.json`` atomically; an existing one must hold the same stamp.

    Raises:
        StaleTeacherCacheError: the directory holds a cache of another teacher / pipeline /
            view count (so shards of two caches are never mixed).
    """
    os.makedirs(cache_dir, exist_ok=True)
    path = osp.join(cache_dir, META_FILE)
    if osp.isfile(path):
        for what in ('teacher', 'pipeline'):
            check_stamp(cache_dir, what, meta[what])
        old = read_meta(cache_dir)
        for key in ('views', 'shard_size', 'heads', 'tokens'):
            if old.get(key) != meta.get(key):
                raise StaleTeacherCacheError(
                    f'teacher cache {cache_dir} has {key}={old.get(key)!r}, this run '
                    f'{meta.get(key)!r}; use another --out directory')
        return
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(meta, f, indent=2, sort_keys=True)
    os.replace(tmp, path)


def write_shard(cache_dir: str, shard: int, sample_idx: Sequence[int],
                views: Sequence[Sequence[dict]], logits: Dict[str, np.ndarray],
                group: str = 'logits') -> str:
    """Write one shard (temporary file, then rename) and return its path.

    Args:
        sample_idx: ``[n]`` dataset indices.
        views: ``n`` lists of ``K`` view dicts.
        logits: ``name -> [n, K, ...]`` arrays (stored as float16), e.g. teacher logits per
            head ``[n, K, C]`` or frozen-extractor tokens per modality ``[n, K, Θ, C]``.
        group: the HDF5 group holding them (``'logits'`` or ``'tokens'``).
    """
    import h5py
    path = shard_path(cache_dir, shard)
    tmp = path + '.tmp'
    with h5py.File(tmp, 'w') as f:
        f.create_dataset('sample_idx', data=np.asarray(sample_idx, np.int64))
        text = np.array([[_canonical(v) for v in row] for row in views], dtype=object)
        f.create_dataset('views', data=text, dtype=h5py.string_dtype('utf-8'),
                         compression='gzip')
        grp = f.create_group(group)
        for head, arr in logits.items():
            grp.create_dataset(head, data=np.asarray(arr, np.float16),
                               chunks=(1, ) + tuple(np.shape(arr)[1:]))
    os.replace(tmp, path)
    return path


class TeacherCacheReader:
    """Random access to a cache: ``reader.get(sample_idx, view)`` → (view dict, logits).

    HDF5 files are opened lazily in the process that reads them (each dataloader worker opens
    its own handles after the fork), read-only, so workers read concurrently.

    Raises:
        FileNotFoundError: the cache lacks the shard of a requested sample (the cache run did
            not finish: resume ``tools/cache_teacher.py``).
    """

    def __init__(self, cache_dir: str, group: str = 'logits') -> None:
        self.cache_dir = cache_dir
        self.group = group
        self.meta = read_meta(cache_dir)
        self.views = int(self.meta['views'])
        self.shard_size = int(self.meta['shard_size'])
        self.heads = dict(self.meta['heads'] if group == 'logits' else self.meta[group])
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
            self._files[shard] = h5py.File(path, 'r')
        return self._files[shard]

    def get(self, sample_idx: int, view: int):
        """``(view dict, dict(name -> float16 array))`` of one stored view (``name``: a head
        ``[C]`` for teacher logits, a modality ``[Θ, C]`` for tokens)."""
        shard, row = divmod(int(sample_idx), self.shard_size)
        f = self._file(shard)
        if int(f['sample_idx'][row]) != int(sample_idx):
            raise RuntimeError(f'teacher cache {self.cache_dir} shard {shard} row {row} holds '
                               f'sample {int(f["sample_idx"][row])}, not {sample_idx}')
        text = f['views'][row, view]
        text = text.decode() if isinstance(text, bytes) else text
        logits = {h: f[self.group][h][row, view] for h in self.heads}
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
    """Indices of the shard files present (complete: they are renamed into place)."""
    if not osp.isdir(cache_dir):
        return []
    return sorted(int(n[6:11]) for n in os.listdir(cache_dir)
                  if n.startswith('shard_') and n.endswith('.h5'))


class _Views:
    """``(sample, view)`` pairs of one shard through the dataset's pipeline (a torch Dataset)."""

    def __init__(self, dataset, items):
        self.dataset, self.items = dataset, items

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        idx, _ = self.items[i]
        return self.dataset.pipeline(self.dataset.get_data_info(idx))


def _seed_worker(worker_id):
    import torch
    np.random.seed(torch.initial_seed() % 2**32)


def fill_cache(out: str, dataset, run_batch, shapes: Dict[str, tuple], meta: dict,
               group: str = 'logits', views: int = 4, shard_size: int = 256,
               batch_size: int = 8, num_workers: int = 0, seed: int = 0) -> None:
    """Write the missing shards of a cache (shared by ``tools/cache_teacher.py`` and
    ``tools/extract_features.py``): rank 0 writes (or checks) ``meta.json``, each rank takes
    shards ``s ≡ rank (mod world)``, finished shards are skipped, progress is shown.

    Args:
        out: the cache directory.
        dataset: a built dataset whose pipeline records views (``ViewFrameIndices`` inserted).
        run_batch: ``list of packed samples -> (dict(name -> np [b, ...]), data_samples)``.
        shapes: ``name -> per-view shape`` of what ``run_batch`` returns.
        meta: the stamp (``teacher`` / ``extractors`` and ``pipeline`` fingerprints ...);
            ``views``, ``shard_size`` and ``num_samples`` are added.
    """
    import math

    import torch
    from mmengine.dist import barrier, get_dist_info
    from mmengine.utils import ProgressBar
    rank, world = get_dist_info()
    n = len(dataset)
    meta = dict(meta, format_version=FORMAT_VERSION, views=views, shard_size=shard_size,
                num_samples=n)
    if rank == 0:
        write_meta(out, meta)
    barrier()
    if rank != 0:
        for what in ('teacher', 'extractors', 'pipeline'):
            if what in meta:
                check_stamp(out, what, meta[what])
    num_shards = math.ceil(n / shard_size)
    done = set(finished_shards(out))
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
                stored[i - idxs[0]][k] = dict(
                    draws=ds.metainfo.get('view', {}),
                    modality_present=ds.metainfo.get('modality_present', {}))
                for h in shapes:
                    arrays[h][i - idxs[0], k] = values[h][j]
            pos += len(batch)
            if progress is not None:
                for _ in batch:
                    progress.update()
        write_shard(out, shard, idxs, stored, arrays, group=group)
    barrier()
    if rank == 0:
        print(f'\ncache complete: {out}', flush=True)
