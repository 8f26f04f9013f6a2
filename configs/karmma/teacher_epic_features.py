# KARMMA teacher (teacher_epic.py) trained from cached tokens of its frozen feature extractors:
# only the fusion block and the head train (KARMMA §3.2), so the extractors' Θ-Averaged tokens
# for K views of every training sample are computed once,
#   python tools/extract_features.py configs/karmma/teacher_epic.py --views 10 --out work_dirs/teacher_epic_features
# and each epoch reads one stored view per sample instead of decoding and running three Swin-B.
# Validation and testing still run the extractors on pixels; the checkpoint holds the whole
# teacher (extractors included), usable as student_epic.py's teacher unchanged.
_base_ = ['./teacher_epic.py']
feature_cache = 'work_dirs/teacher_epic_features'
model = dict(feature_cache=feature_cache)
train_dataloader = dict(dataset=dict(
    _delete_=True, type='FeatureCacheDataset', cache=feature_cache,
    dataset={{_base_.train_dataloader.dataset}}))
