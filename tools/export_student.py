# Copyright (c) mmdistill contributors.
"""Export the student of a distillation checkpoint for plain MMAction2.

    python tools/export_student.py CONFIG CHECKPOINT --out student.pth \
        [--student-config-out student_config.py] [--prefix student.] [--student-key student]

CHECKPOINT is a training checkpoint of ``DistillRecognizer`` (or any checkpoint whose model
keys start with ``--prefix``, default ``student.``), or a work dir (its ``last_checkpoint``).
The output holds ``state_dict`` = the student's weights with the prefix stripped and ``meta``
(the input's meta, reduced to plain Python values, with an ``export_note``); no optimizer,
scheduler, message hub or teacher. Every value loads with ``torch.load(weights_only=True)``,
so plain MMAction2 ``tools/test.py STUDENT_CONFIG student.pth`` loads it without the plugin.

``--student-config-out`` writes CONFIG with ``model = <model.student>`` and without
``custom_imports``/``load_from``/``resume`` (datasets, evaluators, loops, hooks and runtime are
kept). The weights are checked against that model config with a strict load (``--no-verify``
skips it). If the student, or anything else in the config, is a plugin component, a warning
names it: a plugin student keeps ``custom_imports`` (its config needs the plugin), plugin
datasets/transforms must be replaced by plain MMAction2 ones (a plain RGB recognizer takes a
tensor, not the multimodal input dict).
"""
import argparse
import inspect
import os.path as osp
import sys
import time
import warnings
from collections import OrderedDict

import torch

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
    if osp.isdir(path):
        pointer = osp.join(path, 'last_checkpoint')
        if not osp.isfile(pointer):
            raise FileNotFoundError(f'{path} is a directory without a last_checkpoint file')
        with open(pointer) as f:
            return f.read().strip()
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
    import mmaction.registry as mmaction_registry
    from mmengine.registry import Registry
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


def sub_config(model, key: str):
    """``model[k1][k2]...`` for a dotted ``key`` (``'student'``, ``'members.rgb'``), or None."""
    node = model
    for part in key.split('.'):
        if not hasattr(node, 'get') or part not in node:
            return None
        node = node[part]
    return node


def student_config(cfg, student_key: str):
    """The plain config: ``model`` = the student (``student_key`` may be dotted, e.g.
    ``members.rgb`` for one network of ``MultiModalityNetworks``), no ``custom_imports``
    (unless it needs the plugin), no ``load_from``/``resume``; plus the plugin components it
    still uses."""
    from mmengine.config import Config
    model = cfg.model
    if sub_config(model, student_key) is None:
        raise KeyError(f'the config\'s model ({model.get("type")}) has no {student_key!r} '
                       'sub-config; set --student-key')
    plain = cfg.to_dict()
    for key in ('load_from', 'resume'):
        plain.pop(key, None)
    imports = plain.pop('custom_imports', None)
    plain['model'] = sub_config(plain['model'], student_key)
    plugin_model = plugin_components(plain['model'])
    if plugin_model:
        warnings.warn(f'the student uses plugin components {plugin_model}: its config keeps '
                      f'custom_imports and needs {PLUGIN} installed (weights are exported anyway)')
        if imports is not None:
            plain['custom_imports'] = imports
    rest = plugin_components({k: v for k, v in plain.items() if k != 'model'})
    if rest and not plugin_model:
        warnings.warn(f'the student config still uses plugin components {rest} (datasets, '
                      'transforms, metrics ...): replace them by plain MMAction2 ones (e.g. '
                      'VideoDataset/RawframeDataset + PackActionInputs, AccMetric) to run it '
                      f'without {PLUGIN}')
    return Config(plain), plugin_model


def main(argv=None):
    args = parse_args(argv)
    import mmdistill_plugin  # noqa: F401  (registry, torch.load fix for training checkpoints)
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from mmaction.registry import MODELS

    cfg = Config.fromfile(args.config)
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

    plain_cfg = None
    if args.student_config_out or not args.no_verify:
        if sub_config(cfg.model, args.student_key) is not None:
            plain_cfg, _ = student_config(cfg, args.student_key)
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
