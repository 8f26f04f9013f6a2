# Copyright (c) mmdistill contributors.
"""``CheckpointHook`` that a kill at any moment cannot cost the run."""
import os.path as osp
from typing import List, Optional

from mmengine.dist import is_main_process
from mmengine.fileio import get_file_backend
from mmengine.hooks import CheckpointHook

from mmaction.registry import HOOKS
from ..atomic_local_backend import BACKEND_NAME, remove_stale_temporaries
from ..checkpoint_files import (find_resumable_checkpoint, is_intact_checkpoint,
                                write_last_checkpoint)


class _DeferRemovals:
    """A file backend whose ``remove`` / ``rmtree`` only record the path (done later)."""

    def __init__(self, backend, removals: List[str]) -> None:
        self._backend = backend
        self._removals = removals

    def remove(self, path) -> None:
        self._removals.append(str(path))

    def rmtree(self, path) -> None:
        self._removals.append(str(path))

    def __getattr__(self, name):
        return getattr(self._backend, name)


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` (same arguments), made crash-safe.

    Plain ``CheckpointHook`` writes ``epoch_N.pth`` in place and deletes the oldest kept
    checkpoint (and the previous best) *before* writing the new one, and writes
    ``last_checkpoint`` in place with an absolute path. A kill while saving leaves a torn
    ``epoch_N.pth``, a ``last_checkpoint`` naming a deleted file, and ``--resume`` fails. Here:

    * checkpoints go through the ``'atomic_local'`` file backend
      (:class:`~mmdistill_plugin.engine.atomic_local_backend.AtomicLocalBackend`: temporary file
      in the same directory, fsync, rename) when they are saved locally and no
      ``backend_args`` / ``file_client_args`` are given;
    * ``last_checkpoint`` is rewritten atomically, relative to the work dir, after the new
      checkpoint is complete, and only then is the checkpoint falling out of
      ``max_keep_ckpts`` (or the previous best) deleted;
    * on ``--resume`` (``resume=True`` without ``load_from``) the run resumes from the newest
      *intact* checkpoint (:func:`~mmdistill_plugin.engine.checkpoint_files
      .find_resumable_checkpoint`): a torn last checkpoint or a stale ``last_checkpoint`` is
      named in a warning and skipped. ``resume=True`` with an explicit torn ``load_from`` raises.
      This runs in :meth:`before_run`, which the runner calls before ``load_or_resume``, so
      MMAction2's own ``tools/train.py --resume`` gets it too;
    * leftover temporary files of a killed save are deleted before training.

    Use it as ``default_hooks = dict(checkpoint=dict(type='AtomicCheckpointHook', ...))``
    (``configs/_base_/default_runtime.py`` does).

    Raises:
        RuntimeError: (``before_run``) ``resume=True`` with ``load_from`` naming a torn
            checkpoint; the message names it and the newest intact alternative.
    """

    # ------------------------------------------------------------------ resume
    def _checkpoint_dir(self, runner) -> str:
        out_dir = self.out_dir if self.out_dir is not None else runner.work_dir
        if out_dir != runner.work_dir and not getattr(self, '_out_dir_joined', False):
            out_dir = osp.join(out_dir, osp.basename(runner.work_dir.rstrip(osp.sep)))
        return out_dir

    def before_run(self, runner) -> None:
        """Point an auto ``--resume`` at the newest intact checkpoint (see class doc)."""
        super().before_run(runner)
        if not getattr(runner, '_resume', False):
            return
        ckpt_dir = self._checkpoint_dir(runner)
        load_from = getattr(runner, '_load_from', None)
        if load_from is not None:
            if osp.isfile(load_from) and not is_intact_checkpoint(load_from):
                newest = find_resumable_checkpoint(runner.work_dir, ckpt_dir, self.filename_tmpl)
                hint = (f'; the newest intact one is {newest} (or use --resume without a path)'
                        if newest else '')
                raise RuntimeError(f'Cannot resume from {load_from}: the checkpoint is torn '
                                   f'(truncated or corrupted){hint}')
            return
        if '://' in ckpt_dir:
            return  # remote storage: leave it to mmengine
        chosen = find_resumable_checkpoint(runner.work_dir, ckpt_dir, self.filename_tmpl)
        if chosen is not None:
            runner._load_from = chosen
            runner.logger.info(f'Resuming from the newest intact checkpoint {chosen}')
        else:  # nothing to resume (warned above if torn files or a dead pointer were found)
            runner._resume = False

    # ------------------------------------------------------------------ saving
    def before_train(self, runner) -> None:
        """mmengine's setup, then the atomic backend for a local ``out_dir`` (see class doc)."""
        super().before_train(runner)
        self._out_dir_joined = True
        local = '://' not in str(self.out_dir)
        if local and self.backend_args is None and self.file_client_args is None:
            self.backend_args = dict(backend=BACKEND_NAME)
            self.file_backend = get_file_backend(self.out_dir, backend_args=self.backend_args)
        if local and is_main_process():
            for path in remove_stale_temporaries(self.out_dir):
                runner.logger.warning(f'Removed {path}, left by a save that was killed')
            # A resumed copy of a work dir must not delete the best checkpoint of the original.
            best = getattr(self, 'best_ckpt_path', None)
            if best and osp.dirname(osp.abspath(best)) != osp.abspath(self.out_dir):
                self.best_ckpt_path = osp.join(self.out_dir, osp.basename(best))
            for key, best in getattr(self, 'best_ckpt_path_dict', {}).items():
                if best and osp.dirname(osp.abspath(best)) != osp.abspath(self.out_dir):
                    self.best_ckpt_path_dict[key] = osp.join(self.out_dir, osp.basename(best))

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # DeepSpeed checkpoints are directories
            self.file_backend.rmtree(path)

    def _save_checkpoint_with_step(self, runner, step, meta):
        """Save ``filename_tmpl.format(step)``, then update ``last_checkpoint``, then delete the
        checkpoint that falls out of ``max_keep_ckpts`` (mmengine deletes it first)."""
        outdated: Optional[int] = None
        if self.max_keep_ckpts > 0:
            # _save_checkpoint and _save_best_checkpoint may both save the same step.
            if not (len(self.keep_ckpt_ids) > 0 and self.keep_ckpt_ids[-1] == step):
                if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                    outdated = self.keep_ckpt_ids.popleft()
                self.keep_ckpt_ids.append(step)
                runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)

        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)

        # Model-parallel training pulls sharded states from all ranks; the rest is rank 0's.
        if not is_main_process():
            return
        write_last_checkpoint(runner.work_dir, self.last_ckpt)
        if outdated is not None and outdated != step:
            self._remove(self.file_backend.join_path(self.out_dir,
                                                     self.filename_tmpl.format(outdated)))

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's best-checkpoint logic, deleting the previous best only after the new one
        (and ``last_checkpoint``) is written."""
        real, removals = self.file_backend, []
        self.file_backend = _DeferRemovals(real, removals)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = real
        if not is_main_process():
            return
        keep = {str(self.last_ckpt), str(getattr(self, 'best_ckpt_path', None))}
        keep |= {str(p) for p in getattr(self, 'best_ckpt_path_dict', {}).values()}
        for path in removals:
            if path not in keep:
                self._remove(path)
