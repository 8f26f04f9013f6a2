# Copyright (c) mmdistill contributors.
"""Registries of the ``mmdistill_plugin`` scope (children of MMAction2's).

The plugin's components are registered in MMAction2's registries (scope ``mmaction``), so
configs with ``default_scope = 'mmaction'`` build them. A config inherited by package scope,
``_base_ = ['mmdistill_plugin::karmma/toy/student_epic.py']``, gets ``_scope_ =
'mmdistill_plugin'`` on every component MMEngine reads from that base; MMEngine then imports
``mmdistill_plugin.registry`` and builds from the registry of that scope. Each registry here
is an empty child of the MMAction2 registry of the same name, so a lookup falls through to
MMAction2's (where the plugin's components and MMAction2's own are) and nothing is registered
twice.
"""
from mmengine.registry import Registry

import mmaction.registry as _mmaction

SCOPE = 'mmdistill_plugin'


def _child(parent: Registry) -> Registry:
    # Importing these locations fills MMAction2's registries (the parent's own locations) and
    # the plugin's components, whichever registry a build reaches first.
    return Registry(parent.name, parent=parent, scope=SCOPE,
                    locations=list(parent._locations) + [SCOPE])


RUNNERS = _child(_mmaction.RUNNERS)
RUNNER_CONSTRUCTORS = _child(_mmaction.RUNNER_CONSTRUCTORS)
LOOPS = _child(_mmaction.LOOPS)
HOOKS = _child(_mmaction.HOOKS)
LOG_PROCESSORS = _child(_mmaction.LOG_PROCESSORS)
OPTIMIZERS = _child(_mmaction.OPTIMIZERS)
OPTIM_WRAPPERS = _child(_mmaction.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(_mmaction.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(_mmaction.PARAM_SCHEDULERS)
DATASETS = _child(_mmaction.DATASETS)
DATA_SAMPLERS = _child(_mmaction.DATA_SAMPLERS)
TRANSFORMS = _child(_mmaction.TRANSFORMS)
MODELS = _child(_mmaction.MODELS)
MODEL_WRAPPERS = _child(_mmaction.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(_mmaction.WEIGHT_INITIALIZERS)
TASK_UTILS = _child(_mmaction.TASK_UTILS)
METRICS = _child(_mmaction.METRICS)
EVALUATOR = _child(_mmaction.EVALUATOR)
VISUALIZERS = _child(_mmaction.VISUALIZERS)
VISBACKENDS = _child(_mmaction.VISBACKENDS)
INFERENCERS = _child(_mmaction.INFERENCERS)
FUNCTION = _child(_mmaction.FUNCTION)
