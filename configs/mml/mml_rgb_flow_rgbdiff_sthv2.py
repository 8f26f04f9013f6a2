# MML with three modalities (RGB, stacked flow, RGBDiff; Tab. 8 row 6), all from the stage-2 RGB
# network (first convs inflated to 10 / 15 channels).
# Target: the paper's equation for M > 2 networks (§2.2: L_i = CE + (1/(M−1))·Σ_{j≠i} KL(p_j ‖
# p_i), target='peers'); the two-network parent's 'mean_logits' (the reference code's softmax of
# the mean of the others' logits) coincides with it for two networks only.
_base_ = ['./mml_rgb_flow_sthv2.py']
model = dict(
    members=dict(rgb_diff=_base_.rgb_diff_member),
    strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
    member_init=dict(rgb_diff=dict(checkpoint=_base_.stage2, prefix='members.rgb.')))
