# Toy RGB student of student_rgb_flow_sthv2.py distilled offline from a teacher-output cache with
# one stored view per epoch (FKD): the frozen ensemble teacher's logits for K >= max_epochs (30)
# replayable views of every training sample, written once by
#   python tools/cache_teacher.py configs/mm2rgb/toy/student_rgb_flow_sthv2.py --views 30 \
#       --out work_dirs/toy_student_rgb_flow_sthv2_cache [--storage topk --topk 2 | int8]
# Epoch e replays stored view e mod K of every sample (view_sampling='per_epoch', the epoch from
# ViewEpochSampler): as many distinct augmented views as online training, each with the
# teacher's exact target; no teacher is built. benchmarks/teacher_cache_storage.py compares it
# with online distillation.
_base_ = ['./student_rgb_flow_sthv2.py']
teacher_cache = 'work_dirs/toy_student_rgb_flow_sthv2_cache'
model = dict(teacher_cache=teacher_cache)
train_dataloader = dict(
    sampler=dict(type='ViewEpochSampler', shuffle=True),
    dataset=dict(_delete_=True, type='TeacherCacheDataset', cache=teacher_cache,
                 view_sampling='per_epoch', dataset={{_base_.train_dataloader.dataset}}))
