#!/usr/bin/env bash
# KARMMA end to end on the toy EPIC-100-format dataset, on a CPU in minutes:
# toy data → teacher → Baseline, Baseline w/ δ, student (distilled) → test of every model with
# all modalities and with each combination missing, printed like KARMMA Tab. 1 (action top-1).
#   bash tools/karmma_toy_demo.sh            # online distillation (teacher forward every step)
#   bash tools/karmma_toy_demo.sh --cached   # offline: cache the teacher's logits for K views
#                                            # once, train the student from the cache
# Work dirs: work_dirs/toy_*_epic (the toy student config reads its teacher from
# work_dirs/toy_teacher_epic).
set -euo pipefail
cd "$(dirname "$0")/.."
W=work_dirs
SEED=${SEED:-0}
VIEWS=${VIEWS:-4}
CACHED=0
[ "${1:-}" = "--cached" ] && CACHED=1

python tools/data/generate_toy_dataset.py --out-dir data/toy --datasets epic --seed 0
for name in teacher baseline baseline_delta; do
    python tools/train.py configs/karmma/toy/${name}_epic.py --work-dir $W/toy_${name}_epic --seed $SEED --deterministic
done
if [ $CACHED = 1 ]; then
    python tools/cache_teacher.py configs/karmma/toy/student_epic.py --views $VIEWS \
        --out $W/toy_teacher_epic_cache --seed $SEED
    python tools/train.py configs/karmma/toy/student_epic_cached.py --work-dir $W/toy_student_epic --seed $SEED --deterministic
else
    python tools/train.py configs/karmma/toy/student_epic.py --work-dir $W/toy_student_epic --seed $SEED --deterministic
fi
python tools/analysis/missing_modality_eval.py \
    --model KARMMA_T configs/karmma/toy/teacher_epic.py $W/toy_teacher_epic \
    --model Baseline configs/karmma/toy/baseline_epic.py $W/toy_baseline_epic \
    --model 'Baseline_w/δ' configs/karmma/toy/baseline_delta_epic.py $W/toy_baseline_delta_epic \
    --model KARMMA_S configs/karmma/toy/student_epic.py $W/toy_student_epic \
    --work-dir $W/toy_missing_modality_eval --out $W/toy_missing_modality_eval/table1.json
