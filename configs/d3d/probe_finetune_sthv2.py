# D3D flow-decoder probe (d3d.txt §3.1-3.2), setting 2 ("fine-tune decoder and 3D CNN
# end-to-end"), Table 1 row "S3D-G+FT" / Fig. 3 "ft" (the lower bound): how much motion the RGB
# network CAN represent, starting, as in the paper, from the RGB network trained without
# distillation (baseline_rgb_sthv2.py). To fine-tune from the distilled student instead:
#   --cfg-options model.checkpoint=work_dirs/d3d_student_sthv2 model.checkpoint_prefix=student.
# Everything else (decoder, layer, data, schedule) is the frozen setting's.
_base_ = ['./probe_frozen_baseline_sthv2.py']
model = dict(mode='finetune')
