# Toy version of configs/dmcl/random_teacher_nwucla.py: configs/dmcl/toy/dmcl_sthv2.py with the
# same strategy as the paper ablation config.
_base_ = ['./dmcl_sthv2.py']
model = dict(strategy=dict(_delete_=True, type='RandomTeacherMCLLoss', T=2.0, lam=0.5))
