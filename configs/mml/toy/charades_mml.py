# Toy "I3D on Charades" stage 3: Mutual Modality Learning (BCE + KL / (B·C)) of RGB and flow,
# both from the stage-2 RGB network (flow's 5×7×7 stem inflated 3 → 2 channels, strict).
_base_ = ['./charades_rgb.py']
model = dict(members=dict(_delete_=True, rgb=_base_.toy_ch_rgb_member,
                          flow=_base_.toy_ch_flow_member),
             input_keys=dict(_delete_=True),
             strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers'),
             member_init=dict(_delete_=True,
                              rgb=dict(checkpoint='work_dirs/charades_ml',
                                       prefix='members.rgb.'),
                              flow=dict(checkpoint='work_dirs/charades_ml',
                                        prefix='members.rgb.')))
