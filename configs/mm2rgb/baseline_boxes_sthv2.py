# Baseline of multimodal-teacher-rgb-student.txt Table 1, modality object detections (boxes + categories): STLT [15] (BoxRecognizer), from scratch.
# Schedule: 20 epochs, AdamW, peak lr 5e-5, linear warm-up 10 % then linear decay to 0, weight
# decay 1e-3, grad clip 5.0 (configs/_base_/schedules/mm2rgb.py). Its checkpoint (work dir) is a
# member of the ensemble teachers (teacher_*_sthv2.py).
#   python tools/train.py configs/mm2rgb/baseline_boxes_sthv2.py
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/mm2rgb_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py', '../_base_/schedules/mm2rgb.py'
]
model = _base_.boxes_model
train_dataloader = dict(dataset=_base_.train_datasets['boxes'])
val_dataloader = dict(dataset=_base_.test_datasets['boxes'])
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
