# DMCL ablation (dmcl.txt Tab. 1 / 2): Independent on NW-UCLA, everything else as dmcl_nwucla.py.
_base_ = ['./dmcl_nwucla.py']
model = dict(strategy=dict(_delete_=True, type='IndependentMCLLoss'))
