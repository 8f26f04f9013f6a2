# Toy version of ../probe_frozen_baseline_sthv2.py: the toy frozen probe on the toy RGB baseline.
_base_ = ['./probe_frozen_sthv2.py']
model = dict(checkpoint='work_dirs/toy_d3d_baseline_rgb_sthv2', checkpoint_prefix='')
