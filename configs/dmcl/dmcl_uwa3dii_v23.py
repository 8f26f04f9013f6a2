# DMCL on UWA3DII, cross-view split: train on views 2 and 3, test on views 1 and 4;
# everything else as dmcl_uwa3dii.py (views 1, 2 -> 3, 4).
_base_ = ['./dmcl_uwa3dii.py']
train_dataloader = dict(dataset=dict(ann_file='data/uwa3dii/lists/uwa3dii_v23_train.txt'))
val_dataloader = dict(dataset=dict(ann_file='data/uwa3dii/lists/uwa3dii_v23_val.txt'))
test_dataloader = dict(dataset=dict(ann_file='data/uwa3dii/lists/uwa3dii_v23_test.txt'))
