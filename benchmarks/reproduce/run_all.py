"""Run every method's reproduction suite, publish their outputs and regenerate the tables.

    python benchmarks/reproduce/run_all.py                  # 5 seeds each → docs/reproduce/
    python benchmarks/reproduce/run_all.py --only karmma d3d --seeds 8
    python benchmarks/reproduce/run_all.py --only dmcl --workers 2   # seeds in 2 processes
    python benchmarks/reproduce/run_all.py --smoke          # tiny end-to-end check, not published

Each suite is ``benchmarks/reproduce/<method>.py`` (run it alone for one method); its runs and
outputs are in ``<out>/<method>/`` (``results.json``, ``summary.md``, PNGs). Finished runs are
reused, so an interrupted ``run_all.py`` resumes where it stopped. After the suites, unless
``--smoke`` or ``--no-publish``: each ``results.json`` is copied to ``docs/reproduce/<method>.json``
with its PNGs, and ``render.py`` rewrites ``docs/reproduce/*.md`` and README.md's claims table.
``<out>/SUMMARY.md`` indexes the suites of this run. Prints every suite's wall time; exits 1 if a
suite failed (the others still run) and 2 if a calibration control failed.
"""
import argparse
import json
import os.path as osp
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import common  # noqa: E402
import render  # noqa: E402

HERE = Path(__file__).resolve().parent


def publish(out, docs):
    """Copy ``<out>/results.json`` → ``<docs>/<method>.json`` and its figures next to it."""
    payload = json.loads((Path(out) / 'results.json').read_text())
    name = payload['method']
    common.atomic_write(Path(docs) / f'{name}.json', json.dumps(payload, indent=1))
    for f in payload.get('figures') or []:
        shutil.copyfile(Path(out) / f, Path(docs) / f)
    return payload


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--only', nargs='+', choices=render.SUITES, default=render.SUITES)
    p.add_argument('--out', default='work_dirs/reproduce')
    p.add_argument('--seeds', type=int, help='seeds per suite (default 5; 1 with --smoke)')
    p.add_argument('--workers', type=int,
                   help='train each suite\'s seeds in this many processes (its --workers)')
    p.add_argument('--smoke', action='store_true', help='each suite with --smoke')
    p.add_argument('--docs', default=str(render.DOCS), help='where results are published')
    p.add_argument('--readme', default=str(render.README),
                   help="README.md whose 'claims' table is regenerated")
    p.add_argument('--no-publish', action='store_true',
                   help='leave docs/reproduce and README.md alone')
    a = p.parse_args(argv)
    walls, failed, payloads = {}, [], {}
    for name in a.only:
        out = Path(a.out) / name
        cmd = [sys.executable, str(HERE / f'{name}.py'), '--out', str(out)]
        if a.seeds:
            cmd += ['--seeds', str(a.seeds)]
        if a.workers:
            cmd += ['--workers', str(a.workers)]
        if a.smoke:
            cmd.append('--smoke')
        print(f'== {name}: {" ".join(cmd)}', flush=True)
        t0 = time.time()
        rc = subprocess.run(cmd).returncode
        walls[name] = time.time() - t0
        print(f'== {name}: wall time {walls[name] / 60:.1f} min'
              + (f' (FAILED, rc={rc})' if rc else ''), flush=True)
        if rc:
            failed.append(name)
            continue
        payloads[name] = json.loads((out / 'results.json').read_text())
        if not (a.smoke or a.no_publish):
            publish(out, a.docs)
    if payloads:
        common.atomic_write(Path(a.out) / 'SUMMARY.md', render.index_markdown(
            payloads, link='{name}/summary.md'))
        print(f'written {Path(a.out) / "SUMMARY.md"}')
    if payloads and not (a.smoke or a.no_publish):
        render.main(['--docs', a.docs, '--readme', a.readme])
    print('\nwall time per suite (min): ' + ', '.join(f'{n} {w / 60:.1f}'
                                                      for n, w in walls.items()))
    cal_failed = [f'{n}: {x}' for n, pl in payloads.items()
                  for x in pl.get('calibration', {}).get('failed', [])]
    for x in cal_failed:
        print(f'CALIBRATION FAILED: {x}', file=sys.stderr)
    if failed:
        print(f'suites that failed: {failed}', file=sys.stderr)
        return 1
    return 2 if cal_failed else 0


if __name__ == '__main__':
    sys.exit(main())
