# "Baseline w/ mod. drop." of KARMMA supp. Tab. B.1 on epic_kitchens100: the Baseline plus
# modality dropout (p=0.5), with a dropped modality IGNORED (supp. B's first option: fusion
# strategy 'ignore', its tokens masked out of attention and of the M+1 prediction average) instead
# of the missing-modality tokens of Eq. B.1-B.5; no distillation. (Its parameters are the
# Baseline's: a Baseline checkpoint can also be tested this way with
# --cfg-options model.fusion.strategy=ignore.)
_base_ = ['./baseline_delta_epic.py']
model = dict(fusion=dict(strategy='ignore'))
