# Toy version of ../probe_finetune_sthv2.py: the toy frozen baseline probe with the recognizer
# fine-tuned.
_base_ = ['./probe_frozen_baseline_sthv2.py']
model = dict(mode='finetune')
