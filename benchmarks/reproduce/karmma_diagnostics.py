#!/usr/bin/env python
"""Diagnostics of the KARMMA anomaly (docs/benchmarks.md, ``## KARMMA``): Baseline w/ δ and the
Baseline trained on the KARMMA benchmark design with one thing changed that the paper's method
leaves open. Not part of the suite; each run is ``tools/train.py`` on a config written by the
suite's :class:`common.Suite` (the suite's schedule, paths, seeds and loaders), so a run repeats
the suite's run exactly where nothing was changed.

Two experiments:

* ``pretrained``: the paper's student starts V and F from pre-trained extractors (Swin-T K400)
  and A from scratch (KARMMA §4). Stand-in: per seed, a V-only and an F-only model (the
  Baseline w/ δ config with the two other modalities always dropped) trained on the training
  split; their ``backbones.rgb`` / ``backbones.flow`` weights start Baseline and Baseline w/ δ
  (``load_from``).
* ``data``: the design with more training videos per participant (``--train-videos``, the suite
  has 2) on ``--epochs`` epochs (keep the suite's number of steps: 15 with 4 videos), or with
  other cue probabilities (``--knobs rgb_shape=0.85``: designs/karmma.py's knobs). With more
  videos the validation split is another draw of the same design (128 segments).

Each prints ``seed <S> <run>: verb_top1=… noun_top1=… action_top1=…`` (all modalities; a noun
near 50 % is the shape bit at chance).

* ``never-drop``: Baseline w/ δ with modality dropout (p = 0.5) over every modality but
  ``--modality`` (never dropped), on the suite's data or, with ``--planted``, on its copy with the
  action label painted in V (the positive control's data): does the noun fail to be acquired
  because the samples that lose V teach the noun head that the noun is unpredictable?
* ``rows``: reads trained runs (``--runs <work dir> …``, e.g. the suite's
  ``<out>/seed4/toy_baseline_delta_epic_planted``) on their validation split, all modalities: the
  verb / noun top-1 of each fused row's own logits (the MH-MLP head averages the rows' logits;
  rows in the fusion's order, the CLS row last) and the logits' spread over the classes (std,
  mean over clips): a factor whose logits stay flat in every row was never acquired.

Example::

    python benchmarks/reproduce/karmma_diagnostics.py pretrained --seeds 0 --out work_dirs/kd/pre
    python benchmarks/reproduce/karmma_diagnostics.py data --train-videos 4 --epochs 15 \\
        --seeds 0 1 2 --out work_dirs/kd/data2x
    python benchmarks/reproduce/karmma_diagnostics.py data --knobs rgb_shape=0.85 --seeds 0 \\
        --out work_dirs/kd/shape85
    python benchmarks/reproduce/karmma_diagnostics.py rows --out unused \\
        --runs work_dirs/reproduce/karmma/seed4/toy_baseline_delta_epic_planted
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
import karmma as K  # noqa: E402
from common import Suite, parse_args  # noqa: E402


def only(keep):
    """A ``ModalityDropout`` that always drops every modality of the design but ``keep``."""
    return dict(type='ModalityDropout', p=1.0, keep_at_least_one=False,
                modalities=[m for m in K.design().MODALITY_CUES if m != keep])


def dropout_options(sched, edit):
    """Baseline w/ δ's config changes with its ``ModalityDropout`` replaced by
    ``edit(<its dict>)`` (on the suite's schedule ``sched``)."""
    from mmengine.config import Config
    cfg = Config.fromfile(str(K.REPO / f'{K.TOY}/baseline_delta_epic.py'))
    pipe = cfg.train_dataloader.dataset.pipeline
    idx = [i for i, t in enumerate(pipe) if t['type'] == 'ModalityDropout']
    assert len(idx) == 1, pipe
    pipe[idx[0]] = edit(pipe[idx[0]])
    return K.merge(sched, {'train_dataloader': {'dataset': {'pipeline': pipe}}})


def unimodal_options(sched, keep):
    """Baseline w/ δ's config changes for a model trained on ``keep`` only."""
    return dropout_options(sched, lambda _: only(keep))


def never_drop_options(sched, keep):
    """Baseline w/ δ's config changes for modality dropout that never drops ``keep``."""
    others = [m for m in K.design().MODALITY_CUES if m != keep]
    return dropout_options(sched, lambda t: dict(t, modalities=others))


def pretrained(suite, seeds, sched):
    import torch
    for seed in seeds:
        state = {}
        for keep in ('rgb', 'flow'):
            run = f'unimodal_{keep}'
            suite.train(f'{K.TOY}/baseline_delta_epic.py', run, seed, K.KEYS,
                        options=unimodal_options(sched, keep))
            ckpt = suite.work_dir(run, seed) / f'epoch_{sched["train_cfg"]["max_epochs"]}.pth'
            sd = torch.load(str(ckpt), map_location='cpu', weights_only=False)['state_dict']
            state.update({k: v for k, v in sd.items() if k.startswith(f'backbones.{keep}.')})
        start = suite.work_dir('pretrained_extractors', seed)
        start.mkdir(parents=True, exist_ok=True)
        torch.save({'state_dict': state}, str(start / 'extractors.pth'))
        load = {'load_from': str(start / 'extractors.pth')}
        for row, cfg, run in K.TAB1[1:3]:       # Baseline, Baseline w/ δ
            suite.train(f'{K.TOY}/{cfg}.py', f'{run}_pretrained', seed, K.KEYS,
                        options=K.merge(sched, load), row=row)


def rows(work_dirs):
    """Per fused row verb / noun top-1 and logit spread of each trained run (see the module
    doc); prints one line per run and factor."""
    import torch
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmengine.runner import find_latest_checkpoint, load_checkpoint

    import mmdistill_plugin  # noqa: F401  (registers the plugin's modules)
    from mmaction.registry import DATASETS, MODELS
    init_default_scope('mmaction')
    for wd in work_dirs:
        cfg = Config.fromfile(osp.join(wd, 'config.py'))
        model = MODELS.build(cfg.model)
        last = find_latest_checkpoint(wd)
        if last is None:
            raise FileNotFoundError(f'{wd}: no last_checkpoint (not a finished run)')
        load_checkpoint(model, last if osp.isabs(last) else osp.join(wd, last),
                        map_location='cpu')
        model.eval()
        ds = DATASETS.build(cfg.val_dataloader.dataset)
        fused, labels = [], {'verb': [], 'noun': []}
        hook = model.cls_head.register_forward_hook(
            lambda m, args, out: fused.append(args[0].detach()))
        with torch.no_grad():
            for i in range(0, len(ds), 16):
                batch = pseudo_collate([ds[j] for j in range(i, min(i + 16, len(ds)))])
                model.test_step(batch)
                for d in batch['data_samples']:
                    for k in labels:
                        label = torch.as_tensor(getattr(d.gt_labels, k)).reshape(-1)
                        labels[k].append(int(label[0]))
        hook.remove()
        x = torch.cat(fused)                                  # [N, rows, D]
        logits = model.cls_head.forward_tokens(x)
        for k in ('verb', 'noun'):
            y = torch.tensor(labels[k])
            acc = [100 * (logits[k][:, t].argmax(-1) == y).float().mean().item()
                   for t in range(x.shape[1])]
            spread = [logits[k][:, t].std(-1).mean().item() for t in range(x.shape[1])]
            mean = 100 * (logits[k].mean(1).argmax(-1) == y).float().mean().item()
            print(f'[karmma_diagnostics] {wd} {k}: top-1 per row '
                  + ' / '.join(f'{a:.1f}' for a in acc) + f' (mean of the rows {mean:.1f}), '
                  'logit spread per row ' + ' / '.join(f'{v:.2f}' for v in spread), flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('experiment', choices=['pretrained', 'data', 'never-drop', 'rows'])
    p.add_argument('--modality', default='rgb', help='never-drop: the modality never dropped')
    p.add_argument('--planted', action='store_true',
                   help='never-drop: on the positive control\'s planted-label data')
    p.add_argument('--runs', nargs='+', default=[], help='rows: trained work dirs')
    p.add_argument('--seeds', type=int, nargs='+', default=[0])
    p.add_argument('--out', required=True)
    p.add_argument('--train-videos', type=int, default=2,
                   help='data: training videos per participant (the suite: 2)')
    p.add_argument('--epochs', type=int, default=None, help='default: the suite\'s 30')
    p.add_argument('--knobs', nargs='+', default=[], metavar='NAME=P',
                   help='data: cue probabilities of designs/karmma.py (e.g. rgb_shape=0.85)')
    a = p.parse_args(argv)
    if a.experiment == 'rows':
        rows(a.runs)
        return
    suite = Suite('karmma_diagnostics', parse_args('', ['--out', a.out, '--seed-list',
                                                        *map(str, a.seeds)]))
    sched = K.schedule_options(a.epochs)
    if a.experiment == 'never-drop':
        suite.data_dir = (K.generate_planted_data(suite) if a.planted
                          else K.generate_data(suite))
        for seed in a.seeds:
            suite.train(f'{K.TOY}/baseline_delta_epic.py', f'never_drop_{a.modality}', seed,
                        K.KEYS, options=never_drop_options(sched, a.modality),
                        row=f'Baseline w/ δ, {a.modality} never dropped')
        return
    if a.experiment == 'pretrained':
        K.generate_data(suite)
        pretrained(suite, a.seeds, sched)
        return
    K.DATA_SIZES['full'] = dict(K.DATA_SIZES['full'], train_videos=a.train_videos)
    knobs = {k: float(v) for k, v in (kv.split('=', 1) for kv in a.knobs)}
    suite.data_dir = K.generate_data(suite, knobs=knobs)
    for seed in a.seeds:
        for row, cfg, run in K.TAB1[1:3]:
            suite.train(f'{K.TOY}/{cfg}.py', run, seed, K.KEYS, options=sched, row=row)


if __name__ == '__main__':
    main()
