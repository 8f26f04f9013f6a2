# Toy version of the paper config in _base_: same method and settings, tiny models, the toy
# SSv2 data and a short schedule (deviations: configs/_base_/datasets/toy_sthv2_mm2rgb.py).
_base_ = ['../teacher_rgb_boxes_sthv2.py', '../../_base_/datasets/toy_sthv2_mm2rgb.py']
# members: the toy baselines (work_dirs/toy_baseline_*_sthv2)
model = dict(members=dict(rgb=_base_.toy_baseline_members['rgb'],
                          boxes=_base_.toy_baseline_members['boxes']))
val_dataloader = dict(_base_.toy_val_dataloader, dataset=_base_.toy_test_datasets['rgb_boxes'])
test_dataloader = val_dataloader
