# Toy version of ../probe_finetune_sthv2.py: the toy frozen probe with the recognizer fine-tuned.
_base_ = ['./probe_frozen_sthv2.py']
model = dict(mode='finetune')
