# Toy MML pipeline, stage 2 (Fig. 1, yellow; Tab. 7 row 5 "ML: RGB from RGB, RGB from RGB2"):
# Mutual Learning (paper Eq. 1–2) of two RGB networks initialised from the two SEPARATELY
# trained stage-1 networks (configs/mml/toy/rgb_sthv2.py run twice).
_base_ = ['./rgb_sthv2.py']
model = dict(members=dict(rgb_b=_base_.toy_rgb_member), input_keys=dict(rgb='rgb', rgb_b='rgb'),
             strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
             member_init=dict(rgb=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                       prefix='members.rgb.'),
                              rgb_b=dict(checkpoint='work_dirs/toy_mml_rgb2_sthv2',
                                         prefix='members.rgb.')))
