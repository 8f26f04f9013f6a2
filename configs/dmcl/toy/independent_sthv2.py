# Toy version of configs/dmcl/independent_nwucla.py: configs/dmcl/toy/dmcl_sthv2.py with the
# same strategy as the paper ablation config.
_base_ = ['./dmcl_sthv2.py']
model = dict(strategy=dict(_delete_=True, type='IndependentMCLLoss'))
