# DMCL ablation (dmcl.txt Tab. 1 / 2): SMCL [21] on NW-UCLA, everything else as dmcl_nwucla.py.
_base_ = ['./dmcl_nwucla.py']
model = dict(strategy=dict(_delete_=True, type='SMCLLoss'))
