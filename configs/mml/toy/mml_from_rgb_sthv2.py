# Toy MML, stage 2 with two modalities (Tab. 7 row 1 / Tab. 8 row 2 "MML: RGB from RGB, Flow
# from RGB"): RGB and flow networks, both initialised from the stage-1 RGB network (flow's first
# conv inflated 3 -> 2 channels, §2.1), teaching each other (Eq. 1–2; two networks: the peers and
# mean_logits targets coincide).
_base_ = ['./rgb_sthv2.py']
model = dict(members=dict(flow=_base_.toy_flow_member),
             strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
             member_init=dict(rgb=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                       prefix='members.rgb.'),
                              flow=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                        prefix='members.rgb.')))
