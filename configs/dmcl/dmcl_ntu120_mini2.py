# DMCL (dmcl.txt Tab. 1 / 4, NTU120^mini) version 2 of 3: half of the NTU120 cross-subject
# training videos (⌊N/2/120⌋ of every class, tools/data/dmcl_lists.py, one seed per version),
# the full set's validation and test videos. The paper reports the mean of the three versions:
#   for k in 1 2 3; do python tools/train.py configs/dmcl/dmcl_ntu120_mini$k.py; done
#   for k in 1 2 3; do python tools/test.py configs/dmcl/dmcl_ntu120_mini$k.py \
#       work_dirs/dmcl_ntu120_mini$k/best_rgb_top1_*.pth; done
#   python tools/analysis/mean_of_runs.py work_dirs/dmcl_ntu120_mini{1,2,3}
_base_ = ['./dmcl_ntu120.py']
train_dataloader = dict(dataset=dict(ann_file='data/ntu120/lists/ntu120_xsub_mini2_train.txt'))
