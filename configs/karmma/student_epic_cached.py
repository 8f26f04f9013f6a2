# KARMMA student (student_epic.py) distilled offline from a teacher-output cache: the frozen
# teacher's logits for K replayable views of every training sample, written once by
#   python tools/cache_teacher.py configs/karmma/student_epic.py --views 10 --out work_dirs/teacher_epic_cache
# Training replays one stored view per sample per epoch (same frames, crop, flip, jitter),
# builds no teacher and runs no teacher forward; modality dropout still draws afresh.
_base_ = ['./student_epic.py']
teacher_cache = 'work_dirs/teacher_epic_cache'
model = dict(teacher_cache=teacher_cache)
train_dataloader = dict(dataset=dict(
    _delete_=True, type='TeacherCacheDataset', cache=teacher_cache,
    dataset={{_base_.train_dataloader.dataset}}))
