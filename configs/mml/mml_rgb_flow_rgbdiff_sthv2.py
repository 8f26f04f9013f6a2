# MML with three modalities (RGB, stacked flow, RGBDiff), all from the stage-2 RGB network
# (first convs inflated to 10 / 15 channels).
_base_ = ['./mml_rgb_flow_sthv2.py']
model = dict(
    members=dict(rgb_diff=_base_.rgb_diff_member),
    member_init=dict(rgb_diff=dict(checkpoint=_base_.stage2, prefix='members.rgb.')))
