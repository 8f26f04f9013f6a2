# Toy "I3D on Charades" stage 2: Mutual Learning (BCE + KL / (B·C)) of the two stage-1 networks.
_base_ = ['./charades_rgb.py']
model = dict(strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
             member_init=dict(_delete_=True,
                              rgb=dict(checkpoint='work_dirs/charades_rgb',
                                       prefix='members.rgb.'),
                              rgb_b=dict(checkpoint='work_dirs/charades_rgb',
                                         prefix='members.rgb_b.')))
