# Toy MML pipeline, stage 3: Mutual Modality Learning of RGB and flow, both from the stage-2 RGB
# network (flow's first conv inflated); peers' target = softmax of the mean of their logits.
_base_ = ['./rgb_sthv2.py']
model = dict(members=dict(_delete_=True, rgb=_base_.toy_rgb_member, flow=_base_.toy_flow_member),
             strategy=dict(_delete_=True, type='MutualLearningLoss', target='mean_logits'),
             member_init=dict(rgb=dict(checkpoint='work_dirs/toy_mml_ml_sthv2',
                                       prefix='members.rgb.'),
                              flow=dict(checkpoint='work_dirs/toy_mml_ml_sthv2',
                                        prefix='members.rgb.')))
