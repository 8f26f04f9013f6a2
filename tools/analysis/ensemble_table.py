# Copyright (c) mmdistill contributors.
"""Print a DMCL Tab. 1 / MML Tab. 7-style table from tools/test.py logs of MultiModalityMetric.

    python tools/analysis/ensemble_table.py --columns rgb depth flow \
        --row Independent work_dirs/toy_dmcl_independent.test.log --row DMCL ...

Each log's last ``Epoch(test)`` line gives ``<modality>_top1``, ``fused_top1`` (Σ) and
``oracle_top1`` (Φ); a missing value prints as ``-``. Values in %.
"""
import argparse
import re


def read_metrics(path):
    line = [x for x in open(path) if 'Epoch(test)' in x]
    if not line:
        raise ValueError(f'{path}: no "Epoch(test)" line (did tools/test.py run?)')
    return {k: float(v) for k, v in re.findall(r'(\S+): ([0-9.]+)', line[-1])}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--columns', nargs='+', required=True, help='modalities (member names)')
    p.add_argument('--row', nargs=2, action='append', metavar=('NAME', 'LOG'), required=True)
    args = p.parse_args(argv)
    cols = [(c, f'{c}_top1') for c in args.columns] + [('Σ', 'fused_top1'), ('Φ', 'oracle_top1')]
    print(f'{"method":<16}' + ''.join(f'{c:>9}' for c, _ in cols))
    for name, log in args.row:
        m = read_metrics(log)
        print(f'{name:<16}' + ''.join(f'{100 * m[k]:9.2f}' if k in m else f'{"-":>9}'
                                      for _, k in cols))


if __name__ == '__main__':
    main()
