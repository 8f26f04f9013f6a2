# DMCL ablation (dmcl.txt Tab. 1 / 2): CMCL [19] (β = 0.75)
# on NW-UCLA, everything else as dmcl_nwucla.py.
_base_ = ['./dmcl_nwucla.py']
model = dict(strategy=dict(_delete_=True, type='CMCLLoss', beta=0.75))
