# Omnivore baseline of multimodal-teacher-rgb-student.txt Table 1 (after Girdhar et al. [6]): ONE
# TimeSformer ViT-B/16 (ImageNet-pretrained, 8 frames) trained on all modalities jointly, one
# modality sampled at random (uniformly) per video: RGB frames, optical flow as a 3-channel image
# (x, y, 0) and the boxes rendered as 2-px rectangles on a white canvas (hand blue, object red);
# SampleOneModality writes the chosen one into 'rgb', so the plain RGB recognizer trains on it.
# Trained 3× longer than the other models (60 epochs, "to account for the random sampling of
# modalities"), same optimiser; warm-up 10 % of training (6 epochs) then linear decay to 0.
# Evaluated on RGB frames only.
_base_ = [
    '../_base_/default_runtime.py', '../_base_/models/mm2rgb_sthv2.py',
    '../_base_/datasets/sthv2_mm2rgb.py', '../_base_/schedules/mm2rgb.py'
]
epoch_factor = 3                                     # "trained 3x longer"
max_epochs = 20 * epoch_factor                       # 60
warmup_epochs = max_epochs * 0.1                     # 10 % of training
model = _base_.rgb_model
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, end_factor=1.0, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='LinearLR', start_factor=1.0, end_factor=0.0, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_dataloader = dict(dataset=_base_.train_datasets['omnivore'])
val_dataloader = dict(dataset=_base_.test_datasets['omnivore'])  # RGB frames
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=_base_.best_checkpoint)  # best top-1
