# Toy MML, stage 2 with three modalities (Tab. 8 row 6 "RGB from RGB, Flow from RGB, Diff from
# RGB"): RGB, flow and RGBDiff networks, all from the stage-1 RGB network, on the paper's
# equation for M > 2 networks (target='peers': L_i = CE + (1/(M−1))·Σ_{j≠i} KL(p_j ‖ p_i)).
_base_ = ['./mml_from_rgb_sthv2.py']
model = dict(members=dict(rgb_diff=_base_.toy_rgb_diff_member),
             member_init=dict(rgb_diff=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                            prefix='members.rgb.')))
