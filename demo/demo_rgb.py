# Copyright (c) mmdistill contributors.
"""Top-k actions of an exported RGB student on a video, with MMAction2's inference API.

    python demo/demo_rgb.py STUDENT_CONFIG STUDENT_CKPT VIDEO [LABEL_FILE] [--topk 5]
        [--device cpu] [--cfg-options KEY=VALUE ...]

STUDENT_CONFIG / STUDENT_CKPT are what ``tools/export_student.py --student-config-out`` writes:
a plain MMAction2 recognizer and config (no plugin needed). The calls are those of MMAction2's
``demo/demo.py``: ``Config.fromfile`` + ``merge_from_dict``, ``mmaction.apis.init_recognizer``,
``inference_recognizer``; MMAction2's ``demo/demo.py STUDENT_CONFIG STUDENT_CKPT VIDEO
LABEL_FILE --device cpu`` accepts the same files (LABEL_FILE: the ``*_label_map.txt`` written
beside the config). Class names come from LABEL_FILE (one per line), else from the config
(``test_dataloader.dataset.metainfo.classes``).
"""
import argparse
import sys

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='RGB student demo (MMAction2 inference API)')
    parser.add_argument('config', help='student config (tools/export_student.py)')
    parser.add_argument('checkpoint', help='student checkpoint (tools/export_student.py)')
    parser.add_argument('video', help='video file')
    parser.add_argument('label', nargs='?', help='class names, one per line (optional)')
    parser.add_argument('--topk', type=int, default=5, help='how many classes to print')
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE (as tools/test.py)')
    return parser.parse_args(argv)


def pred_scores(result):
    """Class probabilities of ``inference_recognizer``'s result: ``pred_scores.item`` in
    MMAction2 1.1, ``pred_score`` in 1.2."""
    scores = getattr(result, 'pred_scores', None)
    return scores.item if scores is not None else result.pred_score


def main(argv=None):
    args = parse_args(argv)
    from mmaction.apis import inference_recognizer, init_recognizer

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    model = init_recognizer(cfg, args.checkpoint, device=args.device)
    result = inference_recognizer(model, args.video)
    scores = pred_scores(result).float().cpu()

    if args.label:
        with open(args.label) as f:
            names = [line.strip() for line in f]
    else:
        meta = cfg.get('test_dataloader', {}).get('dataset', {}).get('metainfo') or {}
        names = list(meta.get('classes') or [])
    k = min(args.topk, scores.numel())
    values, indices = scores.topk(k)
    print(f'The top-{k} labels with corresponding scores are:')
    for v, i in zip(values.tolist(), indices.tolist()):
        print(f'{names[i] if i < len(names) else i}: ', v)
    return scores


if __name__ == '__main__':
    main()
    sys.exit(0)
