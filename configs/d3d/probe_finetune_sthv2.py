# D3D flow-decoder probe (d3d.txt §3.1-3.2), setting 2 ("fine-tune decoder and 3D CNN end-to-end"): how much motion the RGB
# network CAN represent (D3D Table 1 row S3D-G+FT, the lower bound of Fig. 3).
# Everything else (decoder, layer, data, schedule) is the frozen setting's.
_base_ = ['./probe_frozen_sthv2.py']
model = dict(mode='finetune')
