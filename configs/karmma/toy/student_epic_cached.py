# Toy version of ../student_epic_cached.py: the toy student distilled from a teacher-output cache
#   python tools/cache_teacher.py configs/karmma/toy/student_epic.py --views 4 --out work_dirs/toy_teacher_epic_cache
_base_ = ['./student_epic.py']
teacher_cache = 'work_dirs/toy_teacher_epic_cache'
model = dict(teacher_cache=teacher_cache)
train_dataloader = dict(dataset=dict(
    _delete_=True, type='TeacherCacheDataset', cache=teacher_cache,
    dataset={{_base_.train_dataloader.dataset}}))
