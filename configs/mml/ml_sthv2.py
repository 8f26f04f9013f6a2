# MML pipeline, stage 2 (Fig. 1, yellow): Mutual Learning of two RGB networks, each initialised
# from its own stage-1 run ("RGB" and "RGB2": different initialisations, else the KL term is 0;
# paper Eq. 1–2).
#   python tools/train.py configs/mml/ml_sthv2.py      # reads work_dirs/rgb_sthv2, rgb2_sthv2
_base_ = ['./rgb_sthv2.py']
stage1 = 'work_dirs/rgb_sthv2'
stage1_b = 'work_dirs/rgb2_sthv2'
model = dict(
    members=dict(_delete_=True, rgb=_base_.rgb_member, rgb_b=_base_.rgb_member),
    input_keys=dict(rgb='rgb', rgb_b='rgb'),
    strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers', loss_weight=1.0),
    member_init=dict(rgb=dict(checkpoint=stage1, prefix='members.rgb.'),
                     rgb_b=dict(checkpoint=stage1_b, prefix='members.rgb.')))
