"""Shared machinery of the seeded reproduction suites (``benchmarks/reproduce/<method>.py``).

A suite trains every row of one paper table on generated data for S seeds with MMAction2's own
``tools/train.py`` (one process per run, the user's command), reads each run's final validation
metrics, and reports mean ± std per row and, for each claim of the paper, the paired difference
(a − b, seed by seed) with a 95 % Student-t interval, the smallest difference the design detects
(``mde``) and a verdict that follows the interval (:func:`verdict`). Calibration rows (a positive
control that must come out *held*, a negative control that must come out *inconclusive*) are
claims with ``control=`` set; a failed control is flagged in the summary and the JSON.

Every run's exact config is dumped next to its checkpoint (``<out>/seed<S>/<run>/config.py``):
the suite's only changes to the toy config are

* data paths: ``data/toy`` → the suite's own generated data (``<out>/data``);
* work dirs: ``work_dirs/`` → ``<out>/seed<S>/`` (so a student finds the teacher of its seed);
* ``randomness = dict(seed=S, deterministic=True)`` (mmengine seeds the dataloader workers);
* ``suite_data_sha256``: the hash of the data's generator stamp (``<data>/.suite_args.json``), so
  that regenerated data retrains the runs that read it;
* one validation, after the last epoch (no checkpoint selection on the validation set);
* every dataloader in the training process (``num_workers=0``, :data:`LOADER_WORKERS`): the
  suites run two trainings side by side on 2 cores (``--workers 2``), where loader worker
  processes only add start-up and inter-process copies (docs/benchmarks.md has the timings);
* ``--epochs`` (smoke runs only) shortens ``train_cfg.max_epochs``.

Tools run as ``python benchmarks/reproduce/launch.py tools/<tool>.py ARGS``: the same as
``python tools/<tool>.py ARGS`` except that mmengine's yapf pass over the config text it logs and
dumps is skipped (about 4 CPU-s per pass and 4–5 passes per ``tools/train.py`` run, more than a
toy run's training; the config text stays valid Python, only unformatted). With ``--smoke`` the
tools run inside the suite's process (no interpreter start-up per run, see :func:`run_tool`).

A finished run (``result.json`` holding the SHA-256 of the config it was trained with, equal to
the config the suite writes now) is reused, so an interrupted suite resumes and a changed setting
retrains. A run that reads other runs of the suite (a student its teacher, found as
``<out>/seed<S>/<run>`` in its config) and the files derived from finished runs (KARMMA's
missing-modality evaluations, mm2rgb's test-only teachers) keep the SHA-256 of those runs'
files and are made again when one changed (:meth:`Suite.derived_is_current`); the seconds
of every command are kept in ``<out>/timings.json`` so a resumed suite still reports what a fresh
run costs.
"""
import argparse
import contextlib
import hashlib
import json
import math
import os
import os.path as osp
import re
import runpy
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent

# Sizes of the generated data: ``full`` is the suite's (>= 200 validation videos per table),
# ``smoke`` a tiny one for the tests that run every suite end to end (see ``parse_args``).
EPIC_SCALES = dict(
    full=['--epic-participants', '4', '--epic-train-videos', '2', '--epic-val-videos', '2',
          '--epic-segments', '32'],
    smoke=['--epic-participants', '2', '--epic-train-videos', '1', '--epic-val-videos', '1',
           '--epic-segments', '4'])
STHV2_SCALES = dict(
    full=['--sthv2-train-per-class', '40', '--sthv2-val-per-class', '36'],
    smoke=['--sthv2-train-per-class', '2', '--sthv2-val-per-class', '1'])

SMOKE_EPOCHS = 1
# Dataloader worker processes of every run (see the module doc). The suites published before
# this setting (their JSON lacks ``loader_workers``) ran with the toy configs' 2.
LOADER_WORKERS = 0
# A negative control's second row: ``suite.train(..., seed_offset=NEGATIVE_CONTROL_OFFSET)``
NEGATIVE_CONTROL_OFFSET = 1000
KINDS = ('greater', 'noninferior')
CONTROLS = (None, 'positive', 'negative')
# what a control must come out as
CONTROL_EXPECTED = dict(positive='held', negative='inconclusive')
NO_INTERVAL = '1 seed: no interval'
NO_MARGIN = 'no verdict: no margin stated'


# ------------------------------------------------------------------------------- statistics
def mean_std(values):
    """Mean and sample standard deviation (ddof=1; ``nan`` for one value) of a list of floats."""
    vals = [float(v) for v in values]
    if not vals:
        raise ValueError('mean_std: no values')
    m = sum(vals) / len(vals)
    if len(vals) < 2:
        return m, float('nan')
    return m, math.sqrt(sum((v - m) ** 2 for v in vals) / (len(vals) - 1))


def paired_power(effect, n, alpha=0.05):
    """Power of the two-sided paired t-test at level ``alpha`` for a true standardised effect.

    Args:
        effect (float): true mean difference / standard deviation of the differences (≥ 0).
        n (int): number of pairs (seeds), ≥ 2.

    Returns:
        float: P(|T| > t_{1-α/2, n-1}) with T ~ noncentral t(n − 1, effect·√n)
        (``scipy.stats.nct``; the lower tail as ``sf`` at −nc, which stays finite for n = 2).
    """
    from scipy.stats import nct, t
    df = n - 1
    crit = float(t.ppf(1 - alpha / 2, df))
    nc = effect * math.sqrt(n)
    return float(nct.sf(crit, df, nc) + nct.sf(crit, df, -nc))


def mde(std, n, alpha=0.05, power=0.8):
    """Minimum detectable difference of a paired design (same units as ``std``).

    The smallest true mean difference that the two-sided paired t-test at ``alpha`` detects with
    probability ``power``, given the observed standard deviation of the per-seed differences and
    the number of seeds: ``std × d`` where ``paired_power(d, n) = power`` (solved with
    ``scipy.optimize.brentq``). For n = 5, d = 1.682; n = 10, d = 0.996; large n → 2.80 / √n.

    Returns:
        float: ``nan`` for n < 2 or a non-finite ``std``; 0 for ``std == 0``.
    """
    if n < 2 or not math.isfinite(std):
        return float('nan')
    if std == 0:
        return 0.0
    from scipy.optimize import brentq
    hi = 1.0
    while paired_power(hi, n, alpha) < power:
        hi *= 2.0
    d = brentq(lambda e: paired_power(e, n, alpha) - power, 0.0, hi, xtol=1e-10)
    return float(std * d)


def paired_difference(a, b, confidence=0.95):
    """Paired difference ``a - b`` over seeds with a two-sided Student-t interval.

    Args:
        a, b (list[float]): one value per seed, the same seeds in the same order.
        confidence (float): coverage of the interval.

    Returns:
        dict: ``diffs`` (per seed), ``mean``, ``std`` (ddof=1), ``ci`` ([low, high], from
        ``scipy.stats.t``; ``nan`` for one seed), ``n``, ``mde`` (:func:`mde` at α = 0.05,
        80 % power).

    Raises:
        ValueError: if ``a`` and ``b`` differ in length or are empty.
    """
    if len(a) != len(b) or not a:
        raise ValueError(f'paired_difference: need equal, non-empty lists, got {len(a)} and '
                         f'{len(b)} values')
    return summarize_diffs([float(x) - float(y) for x, y in zip(a, b)], confidence)


def summarize_diffs(diffs, confidence=0.95):
    """``diffs``, ``mean``, ``std``, ``ci``, ``n``, ``mde`` of per-seed differences."""
    diffs = [float(d) for d in diffs]
    m, s = mean_std(diffs)
    n = len(diffs)
    if n < 2:
        ci = [float('nan'), float('nan')]
    else:
        from scipy.stats import t
        half = float(t.ppf(0.5 + confidence / 2, n - 1)) * s / math.sqrt(n)
        ci = [m - half, m + half]
    return dict(diffs=diffs, mean=m, std=s, ci=ci, n=n, mde=mde(s, n))


def check_kind(kind, margin):
    """Validate a claim's ``kind`` and ``margin`` (see :func:`verdict`); return the margin."""
    if kind not in KINDS:
        hint = (" ('not_less' is gone: a '≥' claim is 'noninferior' with a margin)"
                if kind == 'not_less' else '')
        raise ValueError(f'claim kind {kind!r} unknown (one of {KINDS}){hint}')
    if kind == 'noninferior':
        if margin is None or not (isinstance(margin, (int, float)) and math.isfinite(margin)
                                  and margin > 0):
            raise ValueError(f"a 'noninferior' claim needs margin > 0 (points: a ≥ b − margin), "
                             f'got {margin!r}')
        return float(margin)
    if margin is not None:
        raise ValueError(f"margin={margin!r} is only for kind='noninferior'")
    return None


def verdict(diff, kind='greater', margin=None):
    """*held* / *not held* / *inconclusive* from the 95 % interval of a paired difference.

    * ``greater`` (a > b): *held* iff the interval's low end is > 0, *not held* iff its high end
      is < 0, otherwise *inconclusive* (an interval touching 0 is inconclusive).
    * ``noninferior`` (a ≥ b − margin, margin > 0 in the claim's units): *held* iff low > −margin,
      *not held* iff high < −margin, otherwise *inconclusive*.
    * One seed has no interval: ``'1 seed: no interval'``.

    Args:
        diff (dict): from :func:`paired_difference` (``n`` and ``ci`` are read).

    Raises:
        ValueError: unknown ``kind``, or a ``noninferior`` claim without a positive margin.
    """
    margin = check_kind(kind, margin)
    if diff['n'] < 2:
        return NO_INTERVAL
    lo, hi = diff['ci']
    bound = 0.0 if kind == 'greater' else -margin
    if lo > bound:
        return 'held'
    if hi < bound:
        return 'not held'
    return 'inconclusive'


def control_ok(control, verdict_):
    """Whether a control came out as it must (``None``: not a control, or no interval)."""
    if control is None or verdict_ not in ('held', 'not held', 'inconclusive'):
        return None
    return verdict_ == CONTROL_EXPECTED[control]


def check_paper(paper):
    """Validate ``paper=dict(ref=..., a=..., b=..., diff=...)``; fill ``diff`` from a − b."""
    if paper is None:
        return None
    if not isinstance(paper, dict) or not isinstance(paper.get('ref'), str) or not paper['ref']:
        raise ValueError(f"paper must be dict(ref='<paper> Tab. N, row', a=, b=, diff=), "
                         f'got {paper!r}')
    extra = set(paper) - {'ref', 'a', 'b', 'diff'}
    if extra:
        raise ValueError(f'paper: unknown keys {sorted(extra)} (ref, a, b, diff)')
    out = dict(ref=paper['ref'])
    for k in ('a', 'b', 'diff'):
        v = paper.get(k)
        if v is not None and not isinstance(v, (int, float)):
            raise ValueError(f'paper[{k!r}] must be a number or None, got {v!r}')
        out[k] = None if v is None else float(v)
    if out['diff'] is None and out['a'] is not None and out['b'] is not None:
        out['diff'] = out['a'] - out['b']
    return out


def fmt_pm(values, scale=100.0, digits=1):
    """``'62.5 ± 1.3'`` (mean ± std of ``values × scale``); ``'62.5'`` for one value."""
    m, s = mean_std([v * scale for v in values])
    return f'{m:.{digits}f}' if math.isnan(s) else f'{m:.{digits}f} ± {s:.{digits}f}'


def atomic_write(path, text):
    """Write ``text`` to ``path`` through a temporary file and ``os.replace``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f'.tmp{os.getpid()}')
    tmp.write_text(text)
    os.replace(tmp, path)


# ------------------------------------------------------------------------------- tools
@contextlib.contextmanager
def plain_config_text():
    """Within the block, mmengine's ``Config.pretty_text`` skips yapf (valid, unformatted)."""
    import mmengine.config.config as mcc
    saved = mcc.FormatCode
    mcc.FormatCode = lambda text, style_config=None, **kw: (text, False)
    try:
        yield
    finally:
        mcc.FormatCode = saved


@contextlib.contextmanager
def _isolated_mmengine_globals():
    """Drop the mmengine managers (loggers, message hubs, visualizers, scopes) a tool created.

    mmengine names them after ``<config name>_<timestamp>`` (1 s resolution): a second run in
    the same process and second would otherwise get the first run's visualizer (and write its
    scalars into the first run's log dir).
    """
    from mmengine.utils import ManagerMixin

    def classes(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from classes(sub)

    before = {c: dict(c._instance_dict) for c in classes(ManagerMixin)
              if '_instance_dict' in vars(c)}
    try:
        yield
    finally:
        for c in classes(ManagerMixin):
            if '_instance_dict' not in vars(c):
                continue
            keep = before.get(c, {})
            for name, inst in list(c._instance_dict.items()):
                if name in keep:
                    continue
                for h in list(getattr(inst, 'handlers', [])):   # MMLogger file/stream handlers
                    with contextlib.suppress(Exception):
                        h.close()
                    inst.removeHandler(h)
                del c._instance_dict[name]


def run_tool(cmd, log, in_process=False):
    """Run ``[sys.executable, 'tools/x.py', *args]`` from the repository root; output → ``log``.

    Subprocess (default): ``python benchmarks/reproduce/launch.py tools/x.py ARGS``.
    ``in_process``: the tool's ``__main__`` runs in this process (``runpy``) with
    ``sys.argv`` / cwd / ``sys.path`` as a script run would have them, stdout and stderr in
    ``log``, mmengine's named managers dropped afterwards and torch's deterministic-algorithm
    flag restored. The same seed gives the same result either way
    (tests/test_reproduce_suites.py).

    Raises:
        RuntimeError: the tool failed (exit status ≠ 0 or an exception), with the log's tail.
    """
    cmd = [str(c) for c in cmd]
    if cmd[0] != sys.executable or not cmd[1].endswith('.py'):
        raise ValueError(f'run_tool: expected [sys.executable, <script>.py, ...], got {cmd[:2]}')
    Path(log).parent.mkdir(parents=True, exist_ok=True)
    rc, err = 0, None
    if in_process:
        rc, err = _run_in_process(cmd[1:], log)
    else:
        env = dict(os.environ)
        env.setdefault('OMP_NUM_THREADS', '1')
        env.setdefault('MKL_NUM_THREADS', '1')
        env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')]).rstrip(
            os.pathsep)
        with open(log, 'w') as f:
            rc = subprocess.run([sys.executable, str(HERE / 'launch.py'), *cmd[1:]], cwd=REPO,
                                env=env, stdout=f, stderr=subprocess.STDOUT).returncode
    if rc or err is not None:
        tail = ''.join(open(log, errors='replace').readlines()[-30:])
        raise RuntimeError(f'{" ".join(cmd)} failed (rc={rc}{", " + repr(err) if err else ""}),'
                           f' log {log}:\n{tail}')


def _run_in_process(argv, log):
    import torch
    script = argv[0]
    saved = (sys.argv[:], sys.path[:], os.getcwd(), torch.are_deterministic_algorithms_enabled(),
             torch.get_num_threads())
    rc, err = 0, None
    with open(log, 'w') as f, contextlib.redirect_stdout(f), contextlib.redirect_stderr(f), \
            plain_config_text(), _isolated_mmengine_globals():
        try:
            os.chdir(REPO)
            # one intra-op thread, as the process run (OMP_NUM_THREADS=1): float sums split over
            # other thread counts round differently, and the same seed must give the same weights
            torch.set_num_threads(1)
            sys.argv = list(argv)
            sys.path[:0] = [str(REPO / osp.dirname(script)), str(REPO)]
            runpy.run_path(str(REPO / script), run_name='__main__')
        except SystemExit as e:
            rc = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
            if e.code not in (None, 0) and not isinstance(e.code, int):
                print(e.code)
        except Exception as e:  # noqa: BLE001 (reported with the log's tail)
            import traceback
            traceback.print_exc()
            err = e
        finally:
            sys.argv[:], sys.path[:] = saved[0], saved[1]
            os.chdir(saved[2])
            torch.use_deterministic_algorithms(saved[3])
            torch.set_num_threads(saved[4])
    return rc, err


# ------------------------------------------------------------------------------- configs
def _replace_prefixes(obj, mapping):
    if isinstance(obj, str):
        for old, new in mapping.items():
            if obj == old or obj.startswith(old.rstrip('/') + '/') or (
                    old.endswith('/') and obj.startswith(old)):
                return new + obj[len(old):]
        return obj
    if isinstance(obj, dict):
        return type(obj)({k: _replace_prefixes(v, mapping) for k, v in obj.items()})
    if isinstance(obj, (list, tuple)):
        return type(obj)(_replace_prefixes(v, mapping) for v in obj)
    return obj


def _sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _digest_files(paths):
    """``{path: SHA-256 of its bytes}`` (``None`` for a missing file)."""
    return {str(p): _sha256(p) if Path(p).exists() else None for p in paths}


def _last_metrics(work_dir, keys):
    """The last validation entry of mmengine's ``vis_data/scalars.json`` holding all ``keys``."""
    found = None
    for path in sorted(Path(work_dir).glob('*/vis_data/scalars.json')):
        with open(path) as f:
            for line in f:
                entry = json.loads(line)
                if all(k in entry for k in keys):
                    found = entry
    if found is None:
        raise RuntimeError(f'{work_dir}: no validation entry with {keys} in '
                           f'*/vis_data/scalars.json (see {work_dir}/train.log)')
    return found


class Suite:
    """One method's table: runs, results, claims, JSON and Markdown output.

    Args:
        name (str): method name (``karmma``, ``mm2rgb``, ...), used in file names.
        args (argparse.Namespace): from :func:`parse_args`.
        smoke_rows (Iterable[str] | None): the rows a ``--smoke`` run trains (one row per kind
            of run: e.g. a trained baseline, a distilled student, a test-only ensemble, a
            staged run); other recorded rows are skipped by :meth:`train` (``None``: all).
            Unrecorded runs (``row=None``: a teacher others read) always run.
    """

    def __init__(self, name, args, smoke_rows=None):
        self.name = name
        self.args = args
        self.smoke = bool(args.smoke)
        self.out = Path(args.out or f'work_dirs/reproduce/{name}').resolve()
        self.data_dir = self.out / 'data'
        self.seeds = list(args.seed_list) if args.seed_list else list(range(args.seeds))
        self.scale = 'smoke' if self.smoke else 'full'
        self.epochs = args.epochs if args.epochs else (SMOKE_EPOCHS if self.smoke else None)
        self.in_process = bool(getattr(args, 'in_process', False) or self.smoke)
        self.smoke_rows = None if smoke_rows is None else list(smoke_rows)
        self.results = {}      # row -> seed -> metrics dict
        self.run_times = {}    # row -> seed -> seconds
        self.seed_offsets = {}  # row -> offset of the seeds it was trained with
        self.claims = []
        self.skipped = []      # (claim, reason) not measured in a smoke run
        self.extra = {}
        self.t0 = time.time()
        self.out.mkdir(parents=True, exist_ok=True)
        self.workers = int(getattr(args, 'workers', 1) or 1)
        self.train_only = bool(getattr(args, 'train_only', False))
        self.shared_queue = self.train_only and bool(getattr(args, 'shared_queue', False))
        # a training worker of :meth:`parallel_train` keeps its own timings file (two processes
        # rewriting timings.json would lose each other's entries), merged by the parent
        self.timings_file = self.out / (f'timings_{os.getpid()}.json' if self.train_only
                                        else 'timings.json')

    # ---- parallel training of the seeds
    def parallel_train(self, script):
        """``--workers N``: train every seed in N processes of ``script`` (this suite's file,
        each with ``--train-only --shared-queue`` and all the seeds) that share one queue of
        runs: each walks the suite's runs in the suite's order and trains the next one no other
        live process holds (:meth:`lease`), so the processes stay busy until the last run
        (splitting the seeds instead, 5 seeds in 2 processes, leaves one idle for a whole
        seed). Then fold their timings into ``timings.json``. The caller's own loop afterwards
        finds every run finished (``result.json``) and only judges. A no-op for ``--workers 1``,
        a smoke run or one seed.

        Raises:
            RuntimeError: a worker failed (its log, ``<out>/worker<i>.log``, is named).
        """
        if self.workers > 1 and not self.smoke and len(self.seeds) > 1:
            procs = []
            for i in range(self.workers):
                cmd = [sys.executable, osp.abspath(script), '--out', str(self.out),
                       '--train-only', '--shared-queue', '--seed-list', *map(str, self.seeds)]
                if self.args.epochs:
                    cmd += ['--epochs', str(self.args.epochs)]
                log = open(self.out / f'worker{i}.log', 'w')
                procs.append((subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT), log))
            failed = []
            for proc, log in procs:
                if proc.wait():
                    failed.append(log.name)
                log.close()
            if failed:
                raise RuntimeError(f'[{self.name}] training workers failed, see {failed}')
        self.merge_timings()

    @contextlib.contextmanager
    def lease(self, folder):
        """Hold ``folder`` (a run's work dir) for this process while the block runs: yields True
        when it holds it, False when another live process of the suite does (a
        ``--shared-queue`` worker then skips the run). The lease is an exclusive ``flock`` on
        ``<folder>/.lease``: the kernel drops it with its process, so a killed suite leaves
        nothing to clean up. Outside a ``--shared-queue`` worker it always yields True and
        touches nothing."""
        if not self.shared_queue:
            yield True
            return
        import fcntl
        Path(folder).mkdir(parents=True, exist_ok=True)
        fd = os.open(str(Path(folder) / '.lease'), os.O_CREAT | os.O_RDWR)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                yield False
                return
            yield True
        finally:
            os.close(fd)       # releases the lock; the file stays (a later lease reuses it)

    @staticmethod
    def _leased(folder):
        """Whether a live process holds ``folder``'s lease (see :meth:`lease`)."""
        import fcntl
        path = Path(folder) / '.lease'
        if not path.exists():
            return False
        fd = os.open(str(path), os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)
        return False

    def wait_for(self, results, poll_s=5.0):
        """Block until every path in ``results`` (``result.json`` of the runs a run reads)
        exists: in a ``--shared-queue`` worker another process may still be training them (a
        no-op elsewhere: there the suite's order trained them already).

        Raises:
            RuntimeError: one is missing and no live process holds its run (nobody will make
                it: a worker failed or the suite's order trains a run before what it reads).
                A folder without ``config.py`` is no run of the suite (a paper config's unused
                key may name one): not waited for.
        """
        if not self.shared_queue:
            return
        for res in map(Path, results):
            if not (res.parent / 'config.py').exists():
                continue        # a folder the config names that no run of the suite makes
            idle = 0            # polls with the run neither finished nor held
            while not res.exists():
                idle = 0 if self._leased(res.parent) else idle + 1
                if idle > 3 and not res.exists():   # a worker writes config.py, then leases
                    raise RuntimeError(f'[{self.name}] {res.parent} is read by a run but neither '
                                       'finished nor held by a live process')
                time.sleep(poll_s)

    def only_training(self):
        """True in a ``--train-only`` process (after its seeds' loop: stop there, the parent
        judges); prints how long the training took."""
        if self.train_only:
            print(f'[{self.name}] trained seeds {self.seeds} in '
                  f'{(time.time() - self.t0) / 60:.1f} min', flush=True)
        return self.train_only

    def merge_timings(self):
        """Fold the training workers' ``timings_<pid>.json`` into ``timings.json``."""
        workers = sorted(self.out.glob('timings_*.json'))
        if not workers:
            return
        path = self.out / 'timings.json'
        t = json.loads(path.read_text()) if path.exists() else {}
        for w in workers:
            t.update(json.loads(w.read_text()))   # a worker's run is the newest of its log
        atomic_write(path, json.dumps(t, indent=1, sort_keys=True))
        for w in workers:
            w.unlink()

    # ---- data
    def generate_data(self, datasets=('epic', 'sthv2')):
        """Generate the toy data (seed 0, one set for every row and seed) in ``<out>/data``."""
        scale_args = []
        if 'epic' in datasets:
            scale_args += EPIC_SCALES[self.scale]
        if 'sthv2' in datasets:
            scale_args += STHV2_SCALES[self.scale]
        stamp = self.data_dir / '.suite_args.json'
        gen = REPO / 'tools/data/generate_toy_dataset.py'
        want = dict(datasets=list(datasets), args=scale_args,
                    generator_sha256=hashlib.sha256(gen.read_bytes()).hexdigest())
        if not (stamp.exists() and json.loads(stamp.read_text()) == want):
            self.run_cmd([sys.executable, 'tools/data/generate_toy_dataset.py', '--out-dir',
                          str(self.data_dir), '--seed', '0', '--datasets', *datasets,
                          *scale_args], self.out / 'generate_data.log')
            atomic_write(stamp, json.dumps(want))
        self.extra['val_items'] = self._count_val_items(datasets)

    def _count_val_items(self, datasets):
        """Validation videos / segments of the generated datasets (reported in the summary)."""
        n = 0
        if 'epic' in datasets:
            with open(self.data_dir / 'epic/annotations/EPIC_100_validation.csv') as f:
                n += sum(1 for _ in f) - 1   # header row
        if 'sthv2' in datasets:
            with open(self.data_dir / 'sthv2/annotations/validation.json') as f:
                n += len(json.load(f))
        return n

    # ---- running
    def run_cmd(self, cmd, log):
        """Run a tool (:func:`run_tool`; in-process with ``--smoke``) and keep its seconds."""
        t0 = time.time()
        run_tool(cmd, log, in_process=self.in_process)
        self._add_timing(log, time.time() - t0)

    def _add_timing(self, log, seconds):
        path = self.timings_file
        t = json.loads(path.read_text()) if path.exists() else {}
        t[osp.relpath(str(log), str(self.out))] = round(seconds, 1)
        atomic_write(path, json.dumps(t, indent=1, sort_keys=True))

    def seed_dir(self, seed):
        return self.out / f'seed{seed}'

    def work_dir(self, run, seed):
        return self.seed_dir(seed) / run

    def dump_config(self, cfg, path):
        """``cfg.dump(path)`` without yapf (see the module doc), atomically: a ``--shared-queue``
        worker rewrites (the same bytes of) a config another one may be reading."""
        path = Path(path)
        tmp = path.with_name(f'.{path.stem}.tmp{os.getpid()}{path.suffix}')
        with plain_config_text():
            cfg.dump(str(tmp))
        os.replace(tmp, path)

    def config(self, cfg_file, run, seed, options=None):
        """Write the run's config (toy config + the suite's changes, see module doc); return it.

        A test-only config (no ``train_cfg``, e.g. a logit-ensemble teacher) gets the changes
        that are not about training: paths, options, ``randomness``, loaders, logger.
        """
        from mmengine.config import Config
        cfg = Config.fromfile(str(REPO / cfg_file))
        d = cfg.to_dict() if hasattr(cfg, 'to_dict') else cfg._cfg_dict.to_dict()
        d = _replace_prefixes(d, {'data/toy': str(self.data_dir),
                                  'work_dirs/': str(self.seed_dir(seed)) + '/'})
        cfg = Config(d)
        if options:
            cfg.merge_from_dict(options)
        cfg.randomness = dict(seed=seed, deterministic=True, diff_rank_seed=False)
        # the data's identity (its generator's stamp: arguments + the generator's SHA-256): a
        # run is trained again when its data is regenerated differently, not only when its
        # settings change (unused by mmengine; it only enters the config's hash)
        stamp = Path(self.data_dir) / '.suite_args.json'
        if stamp.exists():
            cfg.suite_data_sha256 = _sha256(stamp)
        for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
            if cfg.get(key):
                cfg[key].num_workers = LOADER_WORKERS
                cfg[key].persistent_workers = LOADER_WORKERS > 0
        if cfg.get('train_cfg'):
            if self.epochs:
                cfg.train_cfg.max_epochs = self.epochs
            epochs = cfg.train_cfg.max_epochs
            cfg.train_cfg.val_interval = epochs
            ckpt = cfg.default_hooks.get('checkpoint')
            if ckpt is not None:
                ckpt.update(interval=epochs, max_keep_ckpts=1, save_best=None)
        cfg.default_hooks.logger = dict(type='LoggerHook', interval=50)
        wd = self.work_dir(run, seed)
        wd.mkdir(parents=True, exist_ok=True)
        path = wd / 'config.py'
        self.dump_config(cfg, path)
        return path

    def runs(self, row):
        """Whether this invocation trains ``row`` (False only for undeclared rows in a smoke)."""
        return not (self.smoke and self.smoke_rows is not None and row is not None
                    and row not in self.smoke_rows)

    def train(self, cfg_file, run, seed, keys, options=None, row=None, seed_offset=0):
        """Train ``cfg_file`` as ``run`` for ``seed``; return its final validation metrics.

        Args:
            cfg_file (str): toy config, relative to the repository root.
            run (str): work dir name under ``<out>/seed<S>/`` (keep the toy demo's names, e.g.
                ``toy_teacher_epic``: students find their teachers there).
            seed (int): the suite's seed this run is paired with.
            keys (list[str]): metric keys to read from the final validation (e.g. ``['top1']``).
            options (dict): extra config changes (``Config.merge_from_dict``), the same for every
                row of a table.
            row (str): record the metrics under this table row (default: do not record).
            seed_offset (int): train with seed ``seed + seed_offset`` in
                ``<out>/seed<seed + seed_offset>/<run>`` (a teacher it reads must be trained
                there too, with the same offset) and record it under ``seed``: the second row of
                a negative control (``NEGATIVE_CONTROL_OFFSET``), a method against itself under
                other seeds.

        Returns:
            dict | None: the metrics; ``None`` when a smoke run skips ``row`` (:meth:`runs`) or
            another ``--shared-queue`` worker holds the run (:meth:`lease`).
        """
        if not self.runs(row):
            print(f'[{self.name}] smoke: row {row!r} not in smoke_rows, skipped', flush=True)
            return None
        run_seed = seed + seed_offset
        wd = self.work_dir(run, run_seed)
        cfg_path = self.config(cfg_file, run, run_seed, options)

        def produce():
            t0 = time.time()
            self.run_cmd([sys.executable, 'tools/train.py', str(cfg_path), '--work-dir', str(wd)],
                         wd / 'train.log')
            entry = _last_metrics(wd, keys)
            return dict(config=str(cfg_file), seed=run_seed, wall_s=round(time.time() - t0, 1),
                        metrics={k: entry[k] for k in keys})

        res = self.result_once(cfg_path, produce)
        if res is None:
            print(f'[{self.name}] seed {run_seed} {run}: trained by another worker', flush=True)
            return None
        if row is not None:
            self.record(row, seed, res['metrics'], res['wall_s'])
            if seed_offset:
                self.seed_offsets[row] = seed_offset
        print(f'[{self.name}] seed {run_seed} {run}: '
              + ' '.join(f'{k}={v:.4f}' for k, v in res['metrics'].items())
              + f' ({res["wall_s"]:.0f} s)', flush=True)
        return res['metrics']

    def result_once(self, cfg_path, produce):
        """The result of the run whose config is ``cfg_path``: its ``result.json`` when current
        (:meth:`cached_result`), else ``produce()`` (a dict: ``config``, ``seed``, ``wall_s``,
        ``metrics``) saved as its ``result.json`` (:meth:`save_result`). In a ``--shared-queue``
        worker the run is made under its :meth:`lease` after the runs it reads have finished
        (:meth:`wait_for`), and ``None`` is returned when another worker holds it."""
        res = self.cached_result(cfg_path)
        if res is not None:
            return res
        wd = Path(cfg_path).parent
        with self.lease(wd) as held:
            if not held:
                return None
            # another worker may have finished it between the first look and the lease
            res = self.cached_result(cfg_path) if self.shared_queue else None
            if res is None:
                self.wait_for(self.upstream_results(cfg_path, wd))
                # hashed before the tool runs: mmengine's runner dumps its own copy (+ launcher,
                # work_dir) over <work dir>/config.py
                sha = _sha256(cfg_path)
                res = self.save_result(cfg_path, produce(), config_sha256=sha)
        return res

    def cached_result(self, cfg_path):
        """The ``result.json`` beside the run's config ``cfg_path`` when it still holds: made with
        this config (its SHA-256) and from the same results of the runs the config names
        (:meth:`upstream_results`); else ``None`` (absent, or stale: printed, the run is redone).
        """
        cfg_path = Path(cfg_path)
        wd, result = cfg_path.parent, cfg_path.parent / 'result.json'
        if not result.exists():
            return None
        res = json.loads(result.read_text())
        if res.get('config_sha256') != _sha256(cfg_path):
            print(f'[{self.name}] {wd}: result.json was made with another config, run again',
                  flush=True)
            return None
        if not self.derived_is_current(result, self.upstream_results(cfg_path, wd)):
            return None
        return res

    def save_result(self, cfg_path, res, config_sha256=None):
        """Write ``res`` (+ the config's SHA-256) as the ``result.json`` beside ``cfg_path`` and
        stamp the results of the runs it read (see :meth:`cached_result`); return it.

        ``config_sha256``: the hash of the config as the suite wrote it, taken before the run
        (default: hash ``cfg_path`` now). A tool's runner overwrites ``config.py`` in its work
        dir with its own dump (``launcher``, ``work_dir`` added), so a hash taken after the run
        would never match the config the suite writes on its next pass: every run would train
        again on resume (and twice under ``--workers``).
        """
        cfg_path = Path(cfg_path)
        res = dict(res, config_sha256=config_sha256 or _sha256(cfg_path))
        result = cfg_path.parent / 'result.json'
        atomic_write(result, json.dumps(res, indent=1))
        self.stamp_derived(result, self.upstream_results(cfg_path, cfg_path.parent))
        return res

    def upstream_results(self, cfg_path, wd):
        """``result.json`` of every other run of this suite that the config at ``cfg_path``
        names in a key the runner reads (a teacher's or a member's checkpoint folder,
        ``<out>/seed<S>/<run>``, in ``model``, ``load_from``, a dataloader...: the arguments of
        mmengine's ``Runner``): a run trained on them is stale when one of them changed.

        A variable of a base file that no such key uses is not read: every multimodal → RGB
        toy config carries ``toy_baseline_members`` (the teachers' members, naming the three
        baselines), and counted as a dependency it made each baseline wait for none of the
        others (their folders did not exist yet) but go stale once they finished, so the
        suite's final pass trained every run again."""
        import inspect

        from mmengine.config import Config
        from mmengine.runner import Runner
        cfg = Config.fromfile(str(cfg_path), import_custom_modules=False)
        read = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg'}
        text = repr({k: cfg[k] for k in sorted(read) if k in cfg})
        refs = set(re.findall(re.escape(str(self.out)) + r'/seed\d+/[\w.-]+', text))
        return [Path(r) / 'result.json' for r in sorted(refs - {str(wd)})]

    def derived_is_current(self, out, inputs):
        """Whether ``out`` (a file the suite derives from finished runs, e.g. an evaluation of
        their checkpoints) exists and was made from ``inputs`` (a list of files: the runs'
        ``result.json`` / configs); :meth:`stamp_derived` records them after writing ``out``."""
        out, stamp = Path(out), Path(str(out) + '.inputs.json')
        if not (out.exists() and stamp.exists()):
            return False
        if json.loads(stamp.read_text()) == _digest_files(inputs):
            return True
        print(f'[{self.name}] {out}: made from other runs, made again', flush=True)
        return False

    def stamp_derived(self, out, inputs):
        """Record the SHA-256 of ``inputs`` next to ``out`` (see :meth:`derived_is_current`)."""
        atomic_write(Path(str(out) + '.inputs.json'), json.dumps(_digest_files(inputs)))

    def checkpoint(self, run, seed):
        """The final checkpoint of a finished run (``last_checkpoint`` of mmengine)."""
        wd = self.work_dir(run, seed)
        last = (wd / 'last_checkpoint').read_text().strip()
        return last if osp.isabs(last) else str(wd / last)

    def record(self, row, seed, metrics, wall_s=None):
        self.results.setdefault(row, {})[seed] = dict(metrics)
        if wall_s is not None:
            self.run_times.setdefault(row, {})[seed] = wall_s

    # ---- reporting
    def values(self, row, metric):
        """Per-seed values of ``metric`` for ``row``, in the order of ``self.seeds``."""
        per_seed = self.results[row]
        return [per_seed[s][metric] for s in self.seeds]

    def claim(self, text, a, b, metric, *, kind='greater', margin=None, b_metric=None,
              scale=100.0, paper=None, control=None, digits=None):
        """Measure ``a − b`` (rows, paired per seed) for ``metric`` and record a claim.

        Args:
            text (str): the claim as the paper states it.
            a, b (str): rows; b's metric is ``b_metric`` (default ``metric``).
            kind (str): ``'greater'`` (a > b) or ``'noninferior'`` (a ≥ b − margin).
            margin (float): points (after ``scale``); required for ``'noninferior'`` only.
            scale (float): values × scale (100: fractions → percentage points).
            paper (dict): ``dict(ref='KARMMA Tab. 1, V+A', a=..., b=..., diff=...)`` as the
                paper prints them (``None`` where it gives none; ``diff`` defaults to a − b).
            control (str): ``None``, ``'positive'`` (a planted effect: must come out *held*) or
                ``'negative'`` (the method against itself under other seeds: must come out
                *inconclusive*).
            digits (int): decimals in the tables (default 1 for scale 100, else 3).

        Returns:
            dict: ``claim, a, b, metric, b_metric, kind, margin, scale, digits, paper, control,
            a_values, b_values`` (per seed, scaled), ``diffs, mean, std, ci, n, mde, verdict,
            control_ok`` (``None`` unless a control with an interval); also appended to
            ``self.claims``. ``None`` in a smoke run when a row was not trained (the claim is
            listed in ``self.skipped``).

        Raises:
            ValueError: bad ``kind`` / ``margin`` / ``paper`` / ``control``.
            KeyError: a row has no results (outside a smoke run).
        """
        margin = check_kind(kind, margin)
        paper = check_paper(paper)
        if control not in CONTROLS:
            raise ValueError(f'control must be one of {CONTROLS}, got {control!r}')
        b_metric = b_metric or metric
        if self.smoke and (a not in self.results or b not in self.results):
            missing = [r for r in (a, b) if r not in self.results]
            self.skipped.append(dict(claim=text, reason=f'rows not run in the smoke: {missing}'))
            print(f'[{self.name}] smoke: claim {text!r} skipped (rows {missing} not run)')
            return None
        av = [v * scale for v in self.values(a, metric)]
        bv = [v * scale for v in self.values(b, b_metric)]
        d = paired_difference(av, bv)
        v = verdict(d, kind, margin)
        c = dict(claim=text, a=a, b=b, metric=metric, b_metric=b_metric, kind=kind,
                 margin=margin, scale=scale, digits=digits if digits is not None else (
                     1 if scale == 100.0 else 3),
                 paper=paper, control=control, seeds=list(self.seeds), a_values=av,
                 b_values=bv, **d, verdict=v, control_ok=control_ok(control, v))
        self.claims.append(c)
        return c

    def calibration(self):
        """Controls' outcomes: ``dict(ok, failed, missing, controls)``; see :func:`calibration`."""
        return calibration(self.claims)

    def table(self, rows, metrics, headers=None, scale=100.0):
        """Markdown table: one line per row, mean ± std over seeds per metric."""
        headers = headers or metrics
        lines = ['| row | ' + ' | '.join(headers) + ' |',
                 '|---|' + '---:|' * len(metrics)]
        for r in rows:
            cells = []
            for m in metrics:
                try:
                    cells.append(fmt_pm(self.values(r, m), scale))
                except KeyError:
                    cells.append('–')
            lines.append(f'| {r} | ' + ' | '.join(cells) + ' |')
        return '\n'.join(lines)

    def claims_table(self):
        import render
        return render.claims_table([render.normalize_claim(c) for c in self.claims])

    def payload(self, tables=(), figures=()):
        """The suite's JSON (``results.json``; ``docs/reproduce/<method>.json`` when published)."""
        wall = time.time() - self.t0
        tpath = self.out / 'timings.json'
        timings = json.loads(tpath.read_text()) if tpath.exists() else {}
        span = tool_span_s(self.out, timings)
        return dict(format=2, method=self.name, seeds=self.seeds, data_scale=self.scale,
                    epochs_override=self.epochs, workers=self.workers,
                    loader_workers=LOADER_WORKERS,
                    smoke_rows=self.smoke_rows if self.smoke else None, wall_s=round(wall, 1),
                    compute_s=round(sum(timings.values()), 1),
                    span_s=None if span is None else round(span, 1), results=self.results,
                    run_wall_s=self.run_times, seed_offsets=self.seed_offsets,
                    claims=self.claims, skipped_claims=self.skipped,
                    calibration=self.calibration(),
                    tables=[dict(title=t, markdown=m) for t, m in tables],
                    figures=[osp.basename(str(f)) for f in figures], **self.extra)

    def finish(self, tables, figures=()):
        """Write ``results.json`` and ``summary.md`` under ``<out>`` and print the summary.

        ``summary.md`` is what ``render.py`` makes of ``results.json`` (the committed
        ``docs/reproduce/<method>.md`` is the same text). A failed control is also printed to
        stderr.

        Args:
            tables (list[tuple[str, str]]): (title, markdown table) pairs.
            figures (list[str]): PNG files already written under ``<out>`` (linked from the
                summary by their file names).
        """
        import render
        payload = self.payload(tables, figures)
        text = render.method_markdown(payload)
        atomic_write(self.out / 'results.json', json.dumps(payload, indent=1))
        atomic_write(self.out / 'summary.md', text)
        print(text, flush=True)
        cal = payload['calibration']
        if cal['failed']:
            print(f'[{self.name}] CALIBRATION FAILED: ' + '; '.join(cal['failed']),
                  file=sys.stderr, flush=True)
        span = payload['span_s']
        print(f'[{self.name}] wall time {payload["wall_s"] / 60:.1f} min (this invocation); '
              f'{payload["compute_s"] / 60:.1f} min of tool runs in all (a fresh run)'
              + ('' if span is None else
                 f', {span / 60:.1f} min from the first tool start to the last tool end'),
              flush=True)
        return text


def tool_span_s(out, timings):
    """Seconds from the first start to the last end of the tool runs behind a suite's results.

    ``timings`` maps each tool's log (relative to ``out``) to its seconds; a log is last
    written when its tool ends, so a tool ran from ``mtime − seconds`` to ``mtime``. For a fresh
    run this is the suite's wall time however many invocations (``--workers``, a publishing
    rerun that reuses every run) wrote the JSON; for a run that was interrupted and resumed it
    includes the pause. ``None`` when no log is left.
    """
    spans = []
    for rel, seconds in timings.items():
        log = Path(out) / rel
        if log.exists():
            end = log.stat().st_mtime
            spans.append((end - seconds, end))
    if not spans:
        return None
    return max(e for _, e in spans) - min(s for s, _ in spans)


def calibration(claims):
    """Outcome of the control claims.

    Returns:
        dict: ``controls`` (claim, control, verdict, expected, ok), ``failed`` (a sentence per
        control that did not come out as it must), ``missing`` (``'positive'`` / ``'negative'``
        when the suite has no such control), ``ok`` (True: every control as expected and both
        kinds present; False: a control failed; None: no verdict yet, e.g. one seed).
    """
    controls, failed = [], []
    for c in claims:
        if not c.get('control'):
            continue
        exp = CONTROL_EXPECTED[c['control']]
        ok = control_ok(c['control'], c['verdict'])
        controls.append(dict(claim=c['claim'], control=c['control'], verdict=c['verdict'],
                             expected=exp, ok=ok))
        if ok is False:
            failed.append(f'{c["control"]} control "{c["claim"]}" came out {c["verdict"]} '
                          f'(must be {exp})')
    missing = [k for k in ('positive', 'negative')
               if not any(x['control'] == k for x in controls)]
    if failed:
        ok = False
    elif missing or any(x['ok'] is None for x in controls):
        ok = None
    else:
        ok = True
    return dict(ok=ok, failed=failed, missing=missing, controls=controls)


# ------------------------------------------------------------------------------- plots
def plot_bars(path, suite, rows, metric, title, ylabel='top-1 (%)', scale=100.0):
    """Bars (mean over seeds) with error bars (std) for ``rows``; saved as a PNG.

    Rows without results (not trained in a smoke run) are left out.
    """
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    rows = [r for r in rows if r in suite.results or not suite.smoke]
    means, stds = [], []
    for r in rows:
        m, s = mean_std([v * scale for v in suite.values(r, metric)])
        means.append(m)
        stds.append(0.0 if math.isnan(s) else s)
    fig, ax = plt.subplots(figsize=(max(4, 1.1 * len(rows)), 3.5))
    ax.bar(range(len(rows)), means, yerr=stds, capsize=4, color='tab:blue', alpha=0.8)
    ax.set_xticks(range(len(rows)))
    ax.set_xticklabels(rows, rotation=30, ha='right', fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(f'{title} ({len(suite.seeds)} seeds, mean ± std)', fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


def plot_curves(path, xs, curves, title, xlabel, ylabel='top-1 (%)'):
    """Lines with a ±std band: ``curves`` maps a label to per-x lists of per-seed values (%)."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.5))
    for label, per_x in curves.items():
        ms = [mean_std(v) for v in per_x]
        m = [a for a, _ in ms]
        s = [0.0 if math.isnan(b) else b for _, b in ms]
        ax.plot(xs, m, marker='o', label=label)
        ax.fill_between(xs, [a - b for a, b in zip(m, s)], [a + b for a, b in zip(m, s)],
                        alpha=0.2)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return str(path)


# ------------------------------------------------------------------------------- CLI
def parse_args(description, argv=None):
    """The suites' command line.

    ``--smoke`` checks a suite end to end in about half a minute: tiny data, 1 seed,
    ``SMOKE_EPOCHS`` epoch(s), only the suite's ``smoke_rows``, tools run in-process. One seed
    gives no interval ('1 seed: no interval'); intervals, mde and verdicts are unit-tested on
    hand values in tests/test_reproduce_common.py.
    """
    p = argparse.ArgumentParser(description=description)
    p.add_argument('--seeds', type=int, help='seeds 0..N-1 (default 5; 1 with --smoke)')
    p.add_argument('--seed-list', type=int, nargs='+', help='explicit seeds (overrides --seeds)')
    p.add_argument('--out', help='output dir (default work_dirs/reproduce/<method>)')
    p.add_argument('--epochs', type=int, help='override every run\'s max_epochs (smoke only: '
                   'the tables use the configs\' schedules)')
    p.add_argument('--smoke', action='store_true',
                   help=f'tiny data, 1 seed, {SMOKE_EPOCHS} epoch(s), the suite\'s smoke rows, '
                   'tools in-process: checks that the suite runs end to end')
    p.add_argument('--in-process', action='store_true',
                   help='run the tools in this process (implied by --smoke)')
    p.add_argument('--workers', type=int, default=1,
                   help='train in N processes of this suite that share one queue of runs (each '
                   'takes the next run nobody holds), then judge in this one (2 on a 2-core '
                   'machine: the toy runs use one core well)')
    p.add_argument('--train-only', action='store_true',
                   help='train the seeds and stop (what a --workers process runs)')
    p.add_argument('--shared-queue', action='store_true',
                   help='with --train-only: skip a run another live process holds (a flock on '
                   '<work dir>/.lease), wait for the runs a run reads (what --workers passes)')
    args = p.parse_args(argv)
    if args.seeds is None:
        args.seeds = 1 if args.smoke else 5
    return args
