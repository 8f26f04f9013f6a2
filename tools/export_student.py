# Copyright (c) mmdistill contributors.
"""Export the student of a distillation checkpoint for plain MMAction2.

    python tools/export_student.py CONFIG CHECKPOINT --out student.pth \
        [--student-config-out student_config.py] [--prefix student.] [--student-key student] \
        [--cfg-options KEY=VALUE ...]

CHECKPOINT is a training checkpoint of ``DistillRecognizer`` (or any checkpoint whose model
keys start with ``--prefix``, default ``student.``), or a work dir (its ``last_checkpoint``).
The output holds ``state_dict`` = the student's weights with the prefix stripped and ``meta``
(the input's meta, reduced to plain Python values, with an ``export_note``); no optimizer,
scheduler, message hub or teacher. Every value loads with ``torch.load(weights_only=True)``,
so plain MMAction2 ``tools/test.py STUDENT_CONFIG student.pth`` loads it without the plugin.

``--student-config-out`` writes CONFIG with ``model = <model.student>`` and without
``custom_imports``/``load_from``/``resume`` (datasets, evaluators, loops, hooks and runtime are
kept), plus what MMAction2's inference API and ``demo/demo.py`` read: a top-level
``test_pipeline`` (for an RGB student, the video form of the test pipeline: ``DecordInit`` ...
``PackActionInputs``, so ``inference_recognizer(model, 'video.mp4')`` works whatever the test
dataset reads) and, where the config names the classes (SSv2 ``labels_file``, ``metainfo``),
``test_dataloader.dataset.metainfo.classes`` and ``<config stem>_label_map.txt`` (one name per
line: ``demo/demo.py``'s label file). Config-file variables the runner does not read (a base's
datasets, pipelines and sizes) are left out. The weights are checked against that model config
with a strict load (``--no-verify`` skips it). Output folders are created. ``--cfg-options``
edits CONFIG before the export, as in ``tools/test.py``.

RGB-only students (an MMAction2 recognizer fed ``inputs['rgb']``) are exported as plain
MMAction2, so they deploy without the plugin (see :func:`plain_rgb_config`): a ``SelectModality``
data preprocessor is replaced by the preprocessor it wraps; the val/test datasets of the plugin
(``SomethingSomethingV2Dataset``) become MMAction2's ``VideoDataset`` (``rgb_source='video'``)
or ``RawframeDataset`` (``'frames'``) over an annotation list written next to the config
(``<config stem>_{val,test}_list.txt``, from the plugin dataset's annotation files), their
pipelines MMAction2 transforms (``DecordInit`` + sampling + ``DecordDecode`` or
``RawFrameDecode``, ``Resize``, ``CenterCrop``, ``Flip``, ``FormatShape``, ``PackActionInputs``;
the loaders of other modalities and the modality dropouts are left out), ``MultiHeadAccMetric``
becomes ``AccMetric``, and the training parts (dataloader, loop, optimizer, schedulers, which use
the plugin's multimodal pipeline) are dropped. MMAction2 decodes RGB where the plugin's
``LoadRGBFrames`` gives BGR, so the preprocessor's ``to_rgb`` is toggled: the student sees the
same tensor. ``--keep-plugin-data`` keeps the plugin's data pipeline (and ``custom_imports``).
When the conversion is not possible (a plugin transform without a plain equivalent, annotation
files not readable), a warning says why and the config keeps the plugin's data pipeline.
If the student, or anything else left in the config, is a plugin component, a warning names it
and the config keeps ``custom_imports``.
"""
import argparse
import copy
import inspect
import os
import os.path as osp
import sys
import time
import warnings
from collections import OrderedDict

import torch
from mmengine.config import DictAction

PLUGIN = 'mmdistill_plugin'
PLAIN_TYPES = (str, int, float, bool, type(None))


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Export the student of a distillation run')
    parser.add_argument('config', help='the distillation config the checkpoint was trained with')
    parser.add_argument('checkpoint', help='distillation checkpoint (file or work dir)')
    parser.add_argument('--out', required=True, help='output checkpoint (student only)')
    parser.add_argument('--student-config-out',
                        help='also write a plain config of the student (model = model.student)')
    parser.add_argument('--prefix', default='student.', help='key prefix of the student')
    parser.add_argument('--student-key', default='student',
                        help='the student sub-config inside the config\'s model (dotted: '
                        'members.rgb for one network of MultiModalityNetworks)')
    parser.add_argument('--no-verify', action='store_true',
                        help='do not build the student and load the weights strictly')
    parser.add_argument('--keep-plugin-data', action='store_true',
                        help='keep the plugin\'s datasets / transforms in the student config '
                        '(by default an RGB-only student gets a plain MMAction2 test pipeline)')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override settings of CONFIG before the export, KEY=VALUE (as '
                        'tools/test.py), e.g. test_dataloader.dataset.ann_file=val.txt')
    return parser.parse_args(argv)


def plain_value(value, path='meta'):
    """``value`` reduced to what ``torch.load(weights_only=True)`` accepts, else ``None``."""
    if type(value) in PLAIN_TYPES or isinstance(value, torch.Tensor):
        return value
    for base in (bool, str, int, float):  # subclasses such as numpy.float64, numpy.str_
        if isinstance(value, base):
            return base(value)
    if hasattr(value, 'item') and getattr(value, 'ndim', None) == 0:  # numpy / torch scalars
        return value.item()
    if hasattr(value, 'tolist') and not isinstance(value, torch.Tensor):  # numpy arrays
        return value.tolist()
    if isinstance(value, (list, tuple)):
        items = [plain_value(v, f'{path}[{i}]') for i, v in enumerate(value)]
        return type(value)(items)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if isinstance(k, (str, int)):
                v = plain_value(v, f'{path}.{k}')
                if v is not None or value[k] is None:
                    out[k] = v
        return out
    warnings.warn(f'export_student: dropping {path} ({type(value).__name__}), not a plain value')
    return None


def student_state(checkpoint: dict, prefix: str) -> 'OrderedDict':
    """The student's weights (``module.`` and ``prefix`` stripped).

    Raises:
        KeyError: no key has ``prefix`` (lists the top-level prefixes found).
    """
    state = checkpoint.get('state_dict', checkpoint)
    out = OrderedDict()
    for k, v in state.items():
        k = k[len('module.'):] if k.startswith('module.') else k
        if k.startswith(prefix):
            out[k[len(prefix):]] = v
    if not out:
        heads = sorted({k.split('.', 1)[0] + '.' for k in state})
        raise KeyError(f'no weights with prefix {prefix!r} in the checkpoint (its keys start with '
                       f'{heads}); is this a distillation checkpoint? Set --prefix.')
    return out


def resolve_checkpoint(path: str) -> str:
    if osp.isdir(path):  # last_checkpoint may be relative to the work dir (AtomicCheckpointHook)
        from mmdistill_plugin.models.utils import resolve_checkpoint as work_dir_checkpoint
        return work_dir_checkpoint(path)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint {path} does not exist')
    return path


def component_types(node, found=None):
    """Every ``type`` value in a (nested) config."""
    found = [] if found is None else found
    if isinstance(node, dict):
        if 'type' in node:
            found.append(node['type'])
        for v in node.values():
            component_types(v, found)
    elif isinstance(node, (list, tuple)):
        for v in node:
            component_types(v, found)
    return found


def plugin_components(node) -> list:
    """Names of the plugin's components used in a config (by the module that defines them)."""
    from mmengine.registry import Registry

    import mmaction.registry as mmaction_registry
    registries = [r for r in vars(mmaction_registry).values() if isinstance(r, Registry)]
    names = []
    for t in component_types(node):
        if inspect.isclass(t) or inspect.isfunction(t):
            if t.__module__.startswith(PLUGIN):
                names.append(t.__name__)
            continue
        if not isinstance(t, str):
            continue
        for reg in registries:
            obj = reg.get(t)
            if obj is not None:
                if getattr(obj, '__module__', '').startswith(PLUGIN):
                    names.append(t)
                break
    return sorted(set(names))


#: top-level config keys that mmengine's Runner reads (others are config-file variables)
RUNNER_KEYS = ('model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader',
               'train_cfg', 'val_cfg', 'test_cfg', 'val_evaluator', 'test_evaluator',
               'optim_wrapper', 'param_scheduler', 'auto_scale_lr', 'default_hooks',
               'custom_hooks', 'env_cfg', 'log_processor', 'log_level', 'visualizer',
               'vis_backends', 'default_scope', 'launcher', 'randomness', 'resume', 'load_from',
               'experiment_name', 'custom_imports', 'data_preprocessor', 'cfg',
               'test_pipeline')
#: MMAction2's decoders of a frame folder and of a video (and the video's opener)
FRAME_DECODERS = ('RawFrameDecode', )
VIDEO_INITS = ('DecordInit', 'OpenCVInit', 'PyAVInit')
#: plugin transform -> plain MMAction2 transform (same arguments) for the RGB test pipeline
SPATIAL = dict(MultimodalResize='Resize', MultimodalCenterCrop='CenterCrop',
               MultimodalFlip='Flip')
#: plugin transforms without meaning for a single-modality (RGB) student at test time: left out
SINGLE_MODALITY_NOOPS = ('LoadFlowFrames', 'LoadAudioLogMel', 'LoadBoxes', 'ModalityDropout',
                         'MissingModalities', 'RenderBoxes', 'SampleOneModality')


def _type_name(t):
    return t if isinstance(t, str) else getattr(t, '__name__', str(t))


def plain_rgb_pipeline(pipeline, source: str, format_shape: str = 'NCTHW') -> list:
    """MMAction2 transforms equivalent, for the ``rgb`` key, to a plugin test pipeline.

    Args:
        pipeline (list[dict]): plugin pipeline (``LoadRGBFrames``, ``Multimodal*``,
            ``PackMultimodalInputs`` and MMAction2 samplers).
        source (str): ``'video'`` (``DecordInit`` first, ``DecordDecode``) or ``'frames'``
            (``RawFrameDecode``).

    Raises:
        ValueError: a plugin transform with no plain equivalent (named).
    """
    names = [_type_name(t['type']) for t in pipeline]
    needs_init = source == 'video' and 'LoadRGBFrames' in names and 'DecordInit' not in names
    out = [dict(type='DecordInit')] if needs_init else []
    for t in pipeline:
        name = _type_name(t['type'])
        args = {k: copy.deepcopy(v) for k, v in t.items() if k != 'type'}
        if name == 'LoadRGBFrames':
            out.append(dict(type='DecordDecode') if source == 'video'
                       else dict(type='RawFrameDecode'))
        elif name in SPATIAL:
            out.append(dict(type=SPATIAL[name], **args))
        elif name in SINGLE_MODALITY_NOOPS:
            continue
        elif name == 'PackMultimodalInputs':
            out += [dict(type='FormatShape', input_format=format_shape),
                    dict(type='PackActionInputs')]
        elif plugin_components([t]):
            raise ValueError(f'no plain MMAction2 equivalent of {name} in the test pipeline '
                             '(or use --keep-plugin-data)')
        else:
            out.append(dict(t))
    return out


def video_pipeline(pipeline) -> list:
    """The form of a plain MMAction2 test pipeline that reads a video file (what
    ``inference_recognizer(model, 'video.mp4')`` feeds: ``dict(filename=..., start_index=0)``):
    ``RawFrameDecode`` becomes ``DecordDecode`` after a leading ``DecordInit``."""
    names = [_type_name(t['type']) for t in pipeline]
    out = [] if any(n in VIDEO_INITS for n in names) else [dict(type='DecordInit')]
    for t in pipeline:
        if _type_name(t['type']) in FRAME_DECODERS:
            out.append(dict(type='DecordDecode'))
        else:
            out.append(copy.deepcopy(dict(t)))
    return out


def dataset_class_names(ds) -> list:
    """Class names (by label id) of a single-label dataset config, or None when it names none
    (``metainfo.classes``, or the SSv2 ``labels_file``; see
    ``mmdistill_plugin.apis.class_names``)."""
    from mmdistill_plugin.apis import class_names
    try:
        names = class_names(ds)
    except (OSError, ValueError, KeyError):
        return None
    return None if not names or set(names) != {'item'} else list(names['item'])


def _ssv2_list(ds: dict, list_path: str):
    """Write the MMAction2 annotation list of a ``SomethingSomethingV2Dataset`` config:
    ``<id><video_ext> <label>`` (video) or ``<id> <total_frames> <label>`` (frames)."""
    from mmdistill_plugin.datasets.something_something import count_files, load_json, template_key
    backend_args = ds.get('backend_args')
    labels = {k: int(v) for k, v in
              load_json(ds['labels_file'], 'SSv2 labels file', backend_args).items()}
    entries = load_json(ds['ann_file'], 'SSv2 annotation file', backend_args)
    source = ds.get('rgb_source', 'video')
    prefix = (ds.get('data_prefix') or {}).get('video' if source == 'video' else 'rgb', '')
    tmpl = ds.get('rgb_filename_tmpl', '{:04d}.jpg')
    ext = osp.splitext(tmpl)[1]
    lines = []
    for e in entries:
        if 'template' not in e:
            raise ValueError(f'{ds["ann_file"]}: id {e.get("id")} has no label; a plain '
                             'MMAction2 test list needs labelled entries')
        label = labels[template_key(e['template'])]
        vid = str(e['id'])
        if source == 'video':
            lines.append(f'{vid}{ds.get("video_ext", ".webm")} {label}')
        else:
            n = count_files(osp.join(prefix, vid), lambda x: x.endswith(ext), backend_args)
            lines.append(f'{vid} {n} {label}')
    os.makedirs(osp.dirname(osp.abspath(list_path)), exist_ok=True)
    with open(list_path, 'w') as f:
        f.write('\n'.join(lines) + '\n')
    return source, prefix, tmpl


def plain_rgb_dataset(ds: dict, list_path: str, format_shape: str = 'NCTHW') -> dict:
    """Plain MMAction2 dataset config replacing a plugin RGB test dataset config.

    ``SomethingSomethingV2Dataset`` -> ``VideoDataset`` / ``RawframeDataset`` over the list
    written to ``list_path``, with :func:`plain_rgb_pipeline`; a dataset that is MMAction2's
    already gets its pipeline converted.

    Raises:
        ValueError: a plugin dataset without a plain conversion (``EpicKitchens100Dataset``:
            its students are verb/noun multi-head models).
    """
    name = _type_name(ds['type'])
    if name != 'SomethingSomethingV2Dataset':
        if plugin_components([dict(ds, pipeline=[])]):
            raise ValueError(f'no plain MMAction2 conversion of {name} '
                             '(or use --keep-plugin-data)')
        source = 'video' if name == 'VideoDataset' else 'frames'
        return dict(ds, pipeline=plain_rgb_pipeline(ds.get('pipeline', []), source,
                                                    format_shape))
    source, prefix, tmpl = _ssv2_list(ds, list_path)
    pipeline = plain_rgb_pipeline(ds.get('pipeline', []), source, format_shape)
    common = dict(ann_file=osp.abspath(list_path), pipeline=pipeline, test_mode=True)
    if ds.get('backend_args') is not None:  # MMAction2 1.1 decoders take FileClient arguments
        for t in pipeline:
            if t['type'] in ('DecordInit', 'RawFrameDecode'):
                t.update(io_backend=ds['backend_args'].get('backend', 'disk'),
                         **{k: v for k, v in ds['backend_args'].items() if k != 'backend'})
    if source == 'video':
        return dict(type='VideoDataset', data_prefix=dict(video=prefix), **common)
    return dict(type='RawframeDataset', data_prefix=dict(img=prefix), filename_tmpl=tmpl,
                start_index=1, **common)


def plain_evaluator(ev):
    """``MultiHeadAccMetric`` (single head) -> ``AccMetric`` with the same top-k."""
    if isinstance(ev, (list, tuple)):
        return [plain_evaluator(e) for e in ev]
    if isinstance(ev, dict) and _type_name(ev.get('type')) == 'MultiHeadAccMetric':
        return dict(type='AccMetric', metric_list=('top_k_accuracy', ),
                    metric_options=dict(top_k_accuracy=dict(topk=tuple(ev.get('topk', (1, 5))))))
    return ev


def unwrap_select_modality(model: dict) -> dict:
    """Replace a ``SelectModality`` data preprocessor by the preprocessor it wraps (the student
    then takes one tensor, as plain MMAction2 feeds it)."""
    dp = model.get('data_preprocessor')
    if isinstance(dp, dict) and _type_name(dp.get('type')) == 'SelectModality':
        model = dict(model)
        model['data_preprocessor'] = copy.deepcopy(
            dp.get('preprocessor') or dict(type='ActionDataPreprocessor', format_shape='NCTHW'))
    return model


def plain_rgb_config(plain: dict, list_stem: str) -> bool:
    """Turn the data side of an RGB-only student's config (dict, edited in place) into plain
    MMAction2 (see the module docstring). Returns whether it changed anything; raises
    ``ValueError`` / ``KeyError`` / ``FileNotFoundError`` (naming the part or file) when it
    cannot."""
    loaders = [k for k in ('val_dataloader', 'test_dataloader')
               if isinstance(plain.get(k), dict) and plugin_components([plain[k]])]
    if not loaders:
        return False
    dp = plain['model'].get('data_preprocessor') or {}
    format_shape = dp.get('format_shape', 'NCTHW')
    done = {}
    for key in loaders:
        ds = plain[key]['dataset']
        sig = repr(ds)
        if sig not in done:
            split = key.split('_')[0]
            done[sig] = plain_rgb_dataset(ds, f'{list_stem}_{split}_list.txt', format_shape)
        plain[key]['dataset'] = done[sig]
    for key in ('val_evaluator', 'test_evaluator'):
        if key in plain:
            plain[key] = plain_evaluator(plain[key])
    # The plugin's LoadRGBFrames gives BGR, MMAction2's decoders RGB: toggle to_rgb (a channel
    # flip), so the student sees the same tensor as before export.
    if dp:
        plain['model']['data_preprocessor'] = dict(dp, to_rgb=not dp.get('to_rgb', False))
    for key in ('train_dataloader', 'train_cfg', 'optim_wrapper', 'param_scheduler',
                'auto_scale_lr'):
        plain.pop(key, None)
    # Config-file variables the runner does not read (dataset / model dicts shared between
    # configs, e.g. train_datasets, baseline_members) would keep plugin types in the file.
    for key in [k for k in plain if k not in RUNNER_KEYS and plugin_components([plain[k]])]:
        plain.pop(key)
    return True


#: the plugin's runtime hooks and their plain MMEngine counterparts (None: dropped)
PLAIN_HOOKS = dict(AtomicCheckpointHook='CheckpointHook', LabelRangeCheckHook=None,
                   FiniteLossHook=None)


def plain_runtime(plain: dict) -> None:
    """Replace the plugin's hooks by MMEngine's (atomic checkpoint saving → ``CheckpointHook``;
    the label-range and finite-loss checks dropped): a student evaluated or fine-tuned by plain
    MMAction2."""
    for name, hook in list((plain.get('default_hooks') or {}).items()):
        if isinstance(hook, dict) and _type_name(hook.get('type')) in PLAIN_HOOKS:
            new = PLAIN_HOOKS[_type_name(hook.get('type'))]
            if new is None:
                plain['default_hooks'].pop(name)
            else:
                plain['default_hooks'][name] = dict(hook, type=new)
    hooks = []
    for hook in plain.get('custom_hooks') or []:
        kind = _type_name(hook.get('type')) if isinstance(hook, dict) else None
        if kind in PLAIN_HOOKS:
            if PLAIN_HOOKS[kind] is not None:
                hooks.append(dict(hook, type=PLAIN_HOOKS[kind]))
        else:
            hooks.append(hook)
    if 'custom_hooks' in plain:
        plain['custom_hooks'] = hooks


def sub_config(model, key: str):
    """``model[k1][k2]...`` for a dotted ``key`` (``'student'``, ``'members.rgb'``), or None."""
    node = model
    for part in key.split('.'):
        if not hasattr(node, 'get') or part not in node:
            return None
        node = node[part]
    return node


def student_config(cfg, student_key: str, list_stem: str = None, plain_data: bool = True):
    """The plain config: ``model`` = the student (``student_key`` may be dotted, e.g.
    ``members.rgb`` for one network of ``MultiModalityNetworks``), no ``custom_imports`` (unless
    it or its data need the plugin), no ``load_from``/``resume``; for an RGB-only student with
    ``plain_data`` and ``list_stem`` (where the annotation lists go) a plain MMAction2 test
    pipeline (:func:`plain_rgb_config`); what the inference API reads
    (:func:`inference_ready`). Returns the config and the plugin components of the student."""
    from mmengine.config import Config
    model = cfg.model
    if sub_config(model, student_key) is None:
        raise KeyError(f'the config\'s model ({model.get("type")}) has no {student_key!r} '
                       'sub-config; set --student-key')
    plain = cfg.to_dict()
    for key in ('load_from', 'resume'):
        plain.pop(key, None)
    imports = plain.pop('custom_imports', None)
    plain_runtime(plain)
    student_modality = plain['model'].get('student_modality')
    student = sub_config(plain['model'], student_key)
    dp = student.get('data_preprocessor') if isinstance(student, dict) else None
    if student_modality is None and isinstance(dp, dict) and \
            _type_name(dp.get('type')) == 'SelectModality':
        student_modality = dp.get('modality', 'rgb')
    rgb_only = student_modality == 'rgb'
    plain['model'] = student
    unwrapped = unwrap_select_modality(student) if rgb_only and plain_data else student
    names = None
    if isinstance(plain.get('test_dataloader'), dict):
        names = dataset_class_names(plain['test_dataloader'].get('dataset'))
    converted_data = False
    if (rgb_only and plain_data and list_stem is not None
            and not plugin_components(unwrapped)):
        converted = copy.deepcopy(plain)
        converted['model'] = unwrapped
        try:
            plain_rgb_config(converted, list_stem)
            plain = converted
            converted_data = True
        except (ValueError, KeyError, FileNotFoundError) as err:
            warnings.warn(f'the student config keeps the plugin\'s data pipeline (and '
                          f'custom_imports): {err}')
    inference_ready(plain, names, converted_data or not plugin_components(
        plain.get('test_dataloader')), list_stem)
    plugin_model = plugin_components(plain['model'])
    if plugin_model:
        warnings.warn(f'the student uses plugin components {plugin_model}: its config keeps '
                      f'custom_imports and needs {PLUGIN} installed (weights are exported anyway)')
        if imports is not None:
            plain['custom_imports'] = imports
    rest = plugin_components({k: v for k, v in plain.items() if k != 'model'})
    if rest and not plugin_model:
        warnings.warn(f'the student config still uses plugin components {rest} (datasets, '
                      'transforms, metrics ...): it keeps custom_imports; replace them by plain '
                      'MMAction2 ones (e.g. VideoDataset/RawframeDataset + PackActionInputs, '
                      f'AccMetric) to run it without {PLUGIN}')
        if imports is not None:
            plain['custom_imports'] = imports
    return Config(plain), plugin_model


def inference_ready(plain: dict, names, plain_dataset: bool, list_stem) -> None:
    """What MMAction2's inference API and ``demo/demo.py`` read, added to ``plain`` (edited in
    place): the top-level ``test_pipeline`` (its video form for a plain MMAction2 test dataset:
    :func:`video_pipeline`), the class names as ``metainfo.classes`` of the plain test / val
    datasets and in ``<list_stem>_label_map.txt``; and only the keys the runner reads."""
    for key in [k for k in plain if k not in RUNNER_KEYS]:
        plain.pop(key)
    loader = plain.get('test_dataloader')
    if isinstance(loader, dict) and isinstance(loader.get('dataset'), dict):
        pipeline = loader['dataset'].get('pipeline') or []
        plain['test_pipeline'] = (video_pipeline(pipeline) if plain_dataset
                                  else copy.deepcopy(pipeline))
    if not names:
        return
    if plain_dataset:
        for key in ('val_dataloader', 'test_dataloader'):
            ds = (plain.get(key) or {}).get('dataset')
            if isinstance(ds, dict):
                ds['metainfo'] = dict(ds.get('metainfo') or {}, classes=list(names))
    if list_stem is not None:
        with open(f'{list_stem}_label_map.txt', 'w') as f:
            f.write('\n'.join(names) + '\n')


def main(argv=None):
    args = parse_args(argv)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    import mmdistill_plugin  # noqa: F401  (registry, torch.load fix for training checkpoints)
    from mmaction.registry import MODELS

    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    ckpt_path = resolve_checkpoint(args.checkpoint)
    checkpoint = torch.load(ckpt_path, map_location='cpu', weights_only=False)
    state = student_state(checkpoint, args.prefix)

    meta = plain_value(checkpoint.get('meta') or {}) if isinstance(checkpoint, dict) else {}
    if 'config' in meta:
        meta['distill_config'] = meta.pop('config')
    meta['export_note'] = (
        f'student weights (prefix {args.prefix!r} stripped) of {osp.abspath(ckpt_path)}, '
        f'exported by tools/export_student.py on {time.strftime("%Y-%m-%d %H:%M:%S")}; '
        'teacher, optimizer, schedulers and message hub dropped; load with a plain config of '
        'the student')

    for out in (args.out, args.student_config_out):
        if out:  # every output folder is created
            os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    plain_cfg = None
    if args.student_config_out or not args.no_verify:
        if sub_config(cfg.model, args.student_key) is not None:
            stem = (osp.splitext(args.student_config_out)[0] if args.student_config_out
                    else None)
            plain_cfg, _ = student_config(cfg, args.student_key, stem,
                                          plain_data=not args.keep_plugin_data)
        elif args.student_config_out:
            raise KeyError(f'the config\'s model has no {args.student_key!r} sub-config; '
                           'set --student-key')
    if plain_cfg is not None and not args.no_verify:
        init_default_scope(plain_cfg.get('default_scope', 'mmaction'))
        model = MODELS.build(plain_cfg.model)
        result = model.load_state_dict(state, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise RuntimeError(
                f'the exported weights do not fit model.{args.student_key}: missing '
                f'{result.missing_keys[:10]}, unexpected {result.unexpected_keys[:10]}')
    if plain_cfg is not None and args.student_config_out:
        plain_cfg.load_from = osp.abspath(args.out)
        meta['config'] = plain_cfg.pretty_text
        plain_cfg.dump(args.student_config_out)
        print(f'student config written to {args.student_config_out}')

    torch.save(dict(meta=meta, state_dict=state), args.out)
    print(f'{len(state)} student tensors written to {args.out}')


if __name__ == '__main__':
    sys.exit(main())
