# D3D flow-decoder probe (d3d.txt §3.1-3.2, Table 1 row "S3D-G", Fig. 3 "S3D-G"): the frozen
# setting of probe_frozen_sthv2.py on the RGB network trained WITHOUT distillation
# (baseline_rgb_sthv2.py): what motion a plain action-trained RGB 3D CNN holds. Compare with
# probe_frozen_sthv2.py (row "D3D": the distilled student) and probe_finetune_sthv2.py (row
# "S3D-G+FT"). Decoder, layer, data and schedule are the frozen probe's.
_base_ = ['./probe_frozen_sthv2.py']
model = dict(checkpoint='work_dirs/d3d_baseline_rgb_sthv2',  # file or work dir of the baseline
             checkpoint_prefix='')                           # a plain Recognizer3D checkpoint
