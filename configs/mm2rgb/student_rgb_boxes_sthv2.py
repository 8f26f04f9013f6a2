# RGB student of multimodal-teacher-rgb-student.txt Table 1, taught by the ensemble teacher of
# RGB frames + obj. detections (teacher_rgb_boxes_sthv2.py); only RGB frames at inference.
# Everything else (student, τ = 10 KL + CE, schedule, views) is student_rgb_flow_boxes_sthv2.py's.
#   python tools/train.py configs/mm2rgb/student_rgb_boxes_sthv2.py   # after the baselines
_base_ = ['./student_rgb_flow_boxes_sthv2.py']
model = dict(teacher=dict(members=dict(_delete_=True, rgb=_base_.baseline_members['rgb'],
                                       boxes=_base_.baseline_members['boxes'])))
train_dataloader = dict(dataset=dict(_base_.train_datasets['rgb_boxes'], _delete_=True))
