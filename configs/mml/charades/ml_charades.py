# MML "I3D on Charades", stage 2 (Fig. 1, yellow): Mutual Learning of the two stage-1 RGB
# networks, BCE + KL / (B·C) (§3.3, appendix 2: MutualLearningLoss's multi-label mode, chosen
# by the [B, C] multi-hot labels of MultiModalityNetworks(multi_label=True)).
#   python tools/train.py configs/mml/charades/ml_charades.py    # reads work_dirs/rgb_charades
_base_ = ['./rgb_charades.py']
stage1 = 'work_dirs/rgb_charades'
model = dict(
    strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers', loss_weight=1.0),
    member_init=dict(_delete_=True,
                     rgb=dict(checkpoint=stage1, prefix='members.rgb.'),
                     rgb_b=dict(checkpoint=stage1, prefix='members.rgb_b.')))
