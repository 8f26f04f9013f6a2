# DMCL (dmcl.txt Tab. 4, column NTU60) on NTU RGB+D 60, cross-subject: the NTU120 frames and
# cross-subject split restricted to actions A001-A060 (as the authors' released code builds
# NTU60; its 20 training subjects are NTU60's own cross-subject ones). Everything else as
# dmcl_ntu120.py.
#   python tools/data/dmcl_lists.py ntu60 --data-root data/ntu120 --glob depth='MDepth-*.png'
#   python tools/train.py configs/dmcl/dmcl_ntu60.py
_base_ = ['./dmcl_ntu120.py']
num_classes = 60
model = dict(members={k: dict(cls_head=dict(num_classes=num_classes))
                      for k in _base_.dmcl_members})
train_dataloader = dict(dataset=dict(ann_file='data/ntu120/lists/ntu60_xsub_train.txt'))
val_dataloader = dict(dataset=dict(ann_file='data/ntu120/lists/ntu60_xsub_val.txt'))
test_dataloader = dict(dataset=dict(ann_file='data/ntu120/lists/ntu60_xsub_test.txt'))
