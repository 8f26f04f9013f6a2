# Toy MML: same-length cross-entropy control of stage 2 ("RGB from RGB", CE alone): the stage-1
# RGB network trained for another stage with plain CE, so that ML / MML (which also start from
# stage 1 and train one more stage) are compared with a network trained exactly as long.
_base_ = ['./rgb_sthv2.py']
model = dict(member_init=dict(rgb=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                       prefix='members.rgb.')))
