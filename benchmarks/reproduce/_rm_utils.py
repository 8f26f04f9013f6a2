"""Small helpers of the mm2rgb and d3d suites (kept out of common.py, which the lead owns)."""
import sys


def smoke_one_seed(args, argv=None):
    """``--smoke`` without ``--seeds`` / ``--seed-list``: one seed (the smoke run's contract),
    not common.parse_args' default of 3. Changes ``args.seeds`` in place."""
    given = sys.argv[1:] if argv is None else list(argv)
    if args.smoke and args.seed_list is None and not any(
            a == '--seeds' or a.startswith('--seeds=') for a in given):
        args.seeds = 1
