# Copyright (c) mmdistill contributors.
"""Runner set-up shared by the analysis tools that test checkpoints
(``missing_modality_eval.py``, ``results_table.py``): their common command-line options and the
test config of one (config, checkpoint) pair."""
import os

from mmengine.config import Config, DictAction

from mmdistill_plugin.models.utils import resolve_checkpoint


def add_runner_args(parser) -> None:
    """``--cfg-options``, ``--log-interval``, ``--launcher`` and ``--local-rank``."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None)
    parser.add_argument('--log-interval', type=int, default=10,
                        help='log test progress every N iterations')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher (distributed testing)')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_runner_args(parser, argv=None):
    """``parser.parse_args(argv)``, exporting ``LOCAL_RANK`` as MMAction2's tools do."""
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def test_config(cfg_path: str, ckpt, work_dir: str, cfg_options=None, launcher: str = 'none',
                log_interval: int = 10) -> Config:
    """The config that tests ``ckpt`` (a file or work dir; ``None`` / ``'-'``: no checkpoint)
    with ``cfg_path``'s test set, logging every ``log_interval`` iterations."""
    cfg = Config.fromfile(cfg_path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    cfg.work_dir = work_dir
    cfg.load_from = None if ckpt in (None, '-') else resolve_checkpoint(ckpt)
    cfg.launcher = launcher
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=log_interval)
    return cfg
