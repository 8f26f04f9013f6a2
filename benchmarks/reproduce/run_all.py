"""Run every method's reproduction suite in turn and collect their summaries.

    python benchmarks/reproduce/run_all.py                    # 3 seeds each, work_dirs/reproduce/
    python benchmarks/reproduce/run_all.py --seeds 5 --only karmma d3d
    python benchmarks/reproduce/run_all.py --smoke            # 1 seed, 2 epochs, tiny data

Each suite is ``benchmarks/reproduce/<method>.py`` (run it alone for one method); its results
are in ``<out>/<method>/{results.json,summary.md,*.png}``. This script writes
``<out>/SUMMARY.md`` (every suite's summary, in order) and stops at the first failing suite.
"""
import argparse
import os
import os.path as osp
import subprocess
import sys
import time

SUITES = ['karmma', 'mm2rgb', 'd3d', 'dmcl', 'mml']
HERE = osp.dirname(osp.abspath(__file__))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--only', nargs='+', choices=SUITES, default=SUITES)
    p.add_argument('--out', default='work_dirs/reproduce')
    p.add_argument('--seeds', type=int, help='default 3 (1 with --smoke)')
    p.add_argument('--smoke', action='store_true')
    a = p.parse_args(argv)
    parts = []
    for name in a.only:
        out = osp.join(a.out, name)
        cmd = [sys.executable, osp.join(HERE, f'{name}.py'), '--out', out]
        if a.seeds:
            cmd += ['--seeds', str(a.seeds)]
        if a.smoke:
            cmd.append('--smoke')
        t0 = time.time()
        print(f'== {name}: {" ".join(cmd)}', flush=True)
        subprocess.run(cmd, check=True)
        print(f'== {name}: {time.time() - t0:.0f} s', flush=True)
        with open(osp.join(out, 'summary.md')) as f:
            parts.append(f.read())
    os.makedirs(a.out, exist_ok=True)
    with open(osp.join(a.out, 'SUMMARY.md'), 'w') as f:
        f.write('\n\n'.join(parts))
    print(f'written {osp.join(a.out, "SUMMARY.md")}')


if __name__ == '__main__':
    main()
