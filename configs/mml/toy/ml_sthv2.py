# Toy MML pipeline, stage 2: Mutual Learning of the two stage-1 RGB networks (paper Eq. 1–2).
_base_ = ['./rgb_sthv2.py']
model = dict(strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
             member_init=dict(rgb=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                       prefix='members.rgb.'),
                              rgb_b=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                         prefix='members.rgb_b.')))
