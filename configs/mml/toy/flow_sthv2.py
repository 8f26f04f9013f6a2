# Toy MML "Independent" flow row: one flow network initialised from the stage-1 RGB network
# (first conv inflated), trained with CE alone.
_base_ = ['./rgb_sthv2.py']
model = dict(members=dict(_delete_=True, flow=_base_.toy_flow_member),
             member_init=dict(flow=dict(checkpoint='work_dirs/toy_mml_rgb_sthv2',
                                        prefix='members.rgb.')))
# the one network here is the flow network: best checkpoint on its top-1
default_hooks = dict(checkpoint=dict(save_best='flow_top1', rule='greater'))
