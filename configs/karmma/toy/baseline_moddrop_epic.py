# Toy version of ../baseline_moddrop_epic.py: the toy "Baseline w/ δ" with a dropped modality
# ignored (fusion strategy 'ignore') instead of replaced by learned tokens.
_base_ = ['./baseline_delta_epic.py']
model = dict(fusion=dict(strategy='ignore'))
