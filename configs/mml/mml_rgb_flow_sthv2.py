# MML pipeline, stage 3 (Fig. 1, red): Mutual Modality Learning of RGB and stacked flow, both
# initialised from the stage-2 RGB network (flow: first conv inflated to 10 channels).
# The peers' target is the reference code's softmax of the mean of the others' logits
# (target='peers' is the paper's Eq.; for two networks they coincide).
#   python tools/train.py configs/mml/mml_rgb_flow_sthv2.py     # reads work_dirs/ml_sthv2
_base_ = ['./rgb_sthv2.py']
stage2 = 'work_dirs/ml_sthv2'
model = dict(
    members=dict(_delete_=True, rgb=_base_.rgb_member, flow=_base_.flow_member),
    # deviation (three networks only): the reference code's target, KL to softmax(mean of the
    # peers' logits), not the Eq.'s mean of the KLs to each peer (target='peers')
    strategy=dict(_delete_=True, type='MutualLearningLoss', target='mean_logits'),
    member_init=dict(rgb=dict(checkpoint=stage2, prefix='members.rgb.'),
                     flow=dict(checkpoint=stage2, prefix='members.rgb.')))
