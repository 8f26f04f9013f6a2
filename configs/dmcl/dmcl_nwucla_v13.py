# DMCL on NW-UCLA, cross-view split: train on views 1 and 3, test on view 2; everything
# else as dmcl_nwucla.py (views 1, 2 -> 3).
_base_ = ['./dmcl_nwucla.py']
train_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v13_train.txt'))
val_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v13_val.txt'))
test_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v13_test.txt'))
