# DMCL on NW-UCLA, cross-view split: train on views 2 and 3, test on view 1; everything
# else as dmcl_nwucla.py (views 1, 2 -> 3).
_base_ = ['./dmcl_nwucla.py']
train_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v23_train.txt'))
val_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v23_val.txt'))
test_dataloader = dict(dataset=dict(ann_file='data/nwucla/lists/nwucla_v23_test.txt'))
