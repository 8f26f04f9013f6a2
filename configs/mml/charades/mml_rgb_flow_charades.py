# MML "I3D on Charades", stage 3 (Fig. 1, red): Mutual Modality Learning of RGB and TV-L1 flow
# I3D-R50 networks, both from the stage-2 RGB network (flow's first conv inflated 3 → 2
# channels), BCE + KL / (B·C); checkpoints on Σ's mAP (fused_mAP).
#   python tools/train.py configs/mml/charades/mml_rgb_flow_charades.py
#   (reads work_dirs/ml_charades)
# The paper's Tab. 6 row "MML training from RGB" (35.96 / 29.12 mAP) is the reduced pipeline of
# Fig. 2 (stage 1 → MML): --cfg-options model.member_init.rgb.checkpoint=work_dirs/rgb_charades
# model.member_init.flow.checkpoint=work_dirs/rgb_charades
_base_ = ['./rgb_charades.py']
stage2 = 'work_dirs/ml_charades'
model = dict(
    members=dict(_delete_=True, rgb=_base_.rgb_member, flow=_base_.flow_member),
    input_keys=dict(_delete_=True),
    strategy=dict(_delete_=True, type='MutualLearningLoss', target='peers', loss_weight=1.0),
    member_init=dict(_delete_=True,
                     rgb=dict(checkpoint=stage2, prefix='members.rgb.'),
                     flow=dict(checkpoint=stage2, prefix='members.rgb.')))
