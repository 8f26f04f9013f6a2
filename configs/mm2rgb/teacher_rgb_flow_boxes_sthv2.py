# Ensemble teacher of multimodal-teacher-rgb-student.txt Table 1 ("Teachers, ensembles by logits
# average of baselines trained on individual modalities"): modalities rgb + flow + boxes.
# LogitEnsemble of the baselines' checkpoints (each member loads its own file or work dir, its
# last checkpoint), uniform weights: z_T = mean of the members' logits. Frozen, test only.
#
# Evaluate it (Table 1 "Teacher" rows) with MMAction2's test tool. tools/test.py requires a
# checkpoint argument and loads it non-strictly into the ensemble: pass any existing checkpoint
# whose keys are not members.* (e.g. one baseline's); nothing is overwritten (mmengine only
# warns about the unmatched keys), the members keep their own weights:
#   python tools/test.py configs/mm2rgb/teacher_rgb_flow_boxes_sthv2.py \
#       work_dirs/baseline_rgb_sthv2/$(cat work_dirs/baseline_rgb_sthv2/last_checkpoint)
# (tools/analysis/results_table.py runs it without any checkpoint argument: use '-').
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/mm2rgb_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py'
]
model = dict(
    type='LogitEnsemble',
    members=dict(rgb=_base_.baseline_members['rgb'],
                 flow=_base_.baseline_members['flow'],
                 boxes=_base_.baseline_members['boxes']),
    weighting='mean',  # the paper's (per_sample / dataset: see student_rgb_flow_boxes_sthv2.py)
    weights=None)  # None = uniform: the plain mean of the members' logits
val_dataloader = dict(dataset=_base_.test_datasets['rgb_flow_boxes'])
test_dataloader = val_dataloader
train_dataloader = None  # frozen: no training (no train_cfg / optim_wrapper either)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
