# DMCL ablation (dmcl.txt Tab. 1 / 2): Tab. 2 Random Teacher
# on NW-UCLA, everything else as dmcl_nwucla.py.
_base_ = ['./dmcl_nwucla.py']
model = dict(strategy=dict(_delete_=True, type='RandomTeacherMCLLoss', T=2.0, lam=0.5))
