# Copyright (c) mmdistill contributors.
"""Top-k actions of a multimodal student (KARMMA) on a raw video.

    python demo/demo_multimodal.py CONFIG CHECKPOINT VIDEO [--topk 5] [--device cpu]
        [--flow-algorithm tvl1|farneback] [--flow-short-side 0] [--drop MOD ...]
        [--student-key student] [--cfg-options KEY=VALUE ...]

CONFIG is the student's config (``tools/export_student.py --student-config-out``) or the
distillation config it was trained with (its ``model.student`` is used); CHECKPOINT the
exported student or the distillation checkpoint (its ``student.`` weights), or a work dir
(its ``last_checkpoint``). From VIDEO the demo
computes what it can: RGB frames, optical flow with the project's TV-L1 extraction
(``tools/data/extract_flow.py``) for the frames the clip samples, the log-mel spectrogram of the
audio track when there is one. Whatever it cannot compute (no audio track, boxes, depth) or
``--drop`` names is marked missing, so the student runs its missing-modality path. It prints
which modalities were used and, per head (EPIC: verb and noun), the top-k classes with their
names (from the config's class files, when they exist).
"""
import argparse
import sys

from mmengine.config import Config, DictAction


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Multimodal student demo on a raw video')
    parser.add_argument('config', help='student config, or the distillation config')
    parser.add_argument('checkpoint',
                        help='exported student, distillation checkpoint, or work dir')
    parser.add_argument('video', help='video file')
    parser.add_argument('--topk', type=int, default=5, help='classes to print per head')
    parser.add_argument('--device', default='cpu', help='cpu, cuda:0, ...')
    parser.add_argument('--flow-algorithm', default='tvl1', choices=('tvl1', 'farneback'),
                        help='optical flow (tvl1 falls back to farneback without '
                        'opencv-contrib)')
    parser.add_argument('--flow-short-side', type=int, default=0,
                        help='resize frames to this short side before the flow (0: keep)')
    parser.add_argument('--drop', nargs='*', default=[],
                        help='modalities to leave out (e.g. --drop flow)')
    parser.add_argument('--student-key', default='student',
                        help='the student in a distillation config\'s model')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, KEY=VALUE (as tools/test.py)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)  # imports the plugin (custom_imports)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    from mmdistill_plugin.apis import (class_names, inference_multimodal_recognizer,
                                       init_multimodal_recognizer, scores_per_head, topk)
    model = init_multimodal_recognizer(cfg, args.checkpoint, args.device, args.student_key)
    result, report = inference_multimodal_recognizer(
        model, args.video, flow_algorithm=args.flow_algorithm,
        flow_short_side=args.flow_short_side, drop=args.drop)
    used = [m for m in model.modalities if not report.get(m, '').startswith('missing')]
    print(f'modalities used: {", ".join(used) or "none"}')
    for m in model.modalities:
        print(f'  {m}: {report.get(m, "loaded by the config")}')
    names = class_names(cfg.get('test_dataloader', {}).get('dataset')) or {}
    scores = scores_per_head(result)
    for head, s in scores.items():
        best = topk(s.cpu(), names.get(head), args.topk)
        title = 'classes' if head == 'item' else head
        print(f'top-{len(best)} {title}:')
        for name, p in best:
            print(f'  {name}: {p:.4f}')
    return result, report, used


if __name__ == '__main__':
    main()
    sys.exit(0)
