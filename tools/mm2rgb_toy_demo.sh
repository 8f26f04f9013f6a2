#!/usr/bin/env bash
# Multimodal → RGB distillation (multimodal-teacher-rgb-student.txt) and D3D end to end on the toy
# SSv2 + Something-Else-format dataset, on a CPU: toy data → per-modality baselines (RGB, boxes,
# flow) → the three logit-ensemble teachers (test only) → the three RGB students → Omnivore →
# D3D (flow teacher, RGB baseline, distilled RGB student) → a table like the paper's Table 1.
#   bash tools/mm2rgb_toy_demo.sh
# Work dirs: work_dirs/toy_*_sthv2 (the toy teacher/student configs read the baselines from
# there). D3D rows are labelled 'RGB frames ' (trailing space: no gain column, other model).
# SEED=1 bash tools/mm2rgb_toy_demo.sh for another seed; SKIP_TRAINED=1 reuses finished
# work dirs.
set -euo pipefail
cd "$(dirname "$0")/.."
W=work_dirs
SEED=${SEED:-0}
# one intra-op thread per process: on a small shared CPU, torch's default thread pool is
# oversubscribed by the dataloader workers and other jobs (tens of times slower)
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
TIMES=$(mktemp)

if [ ! -f data/toy/sthv2/annotations/labels.json ]; then
    python tools/data/generate_toy_dataset.py --out-dir data/toy --datasets sthv2 --seed 0
fi

train() {  # train CONFIG WORK_DIR
    local t0=$SECONDS
    if [ "${SKIP_TRAINED:-0}" = 1 ] && [ -f "$2/last_checkpoint" ]; then
        echo "== $1: reusing $2"
        return
    fi
    echo "== training $1 → $2"
    python tools/train.py "$1" --work-dir "$2" --seed "$SEED" --deterministic > "$2.log" 2>&1 \
        || { tail -30 "$2.log"; exit 1; }
    grep 'Epoch(val)' "$2.log" | tail -1 | sed 's/.*Epoch(val)/   val/' | cut -c1-90
    echo "$(basename "$2") $((SECONDS - t0))" >> "$TIMES"
}
mkdir -p $W
T0=$SECONDS
for m in rgb boxes flow; do
    train configs/mm2rgb/toy/baseline_${m}_sthv2.py $W/toy_baseline_${m}_sthv2
done
for t in rgb_boxes rgb_flow rgb_flow_boxes; do
    train configs/mm2rgb/toy/student_${t}_sthv2.py $W/toy_student_${t}_sthv2
done
train configs/mm2rgb/toy/omnivore_sthv2.py $W/toy_omnivore_sthv2
train configs/d3d/toy/teacher_flow_sthv2.py $W/toy_d3d_teacher_flow_sthv2
train configs/d3d/toy/baseline_rgb_sthv2.py $W/toy_d3d_baseline_rgb_sthv2
train configs/d3d/toy/student_sthv2.py $W/toy_d3d_student_sthv2

echo "== testing (teachers: LogitEnsembles of the baselines' checkpoints, no checkpoint of their own)"
C=configs/mm2rgb/toy
D=configs/d3d/toy
python tools/analysis/results_table.py --reference 'Baseline (RGB)' \
    --row 'Baseline (RGB)' 'RGB frames' $C/baseline_rgb_sthv2.py $W/toy_baseline_rgb_sthv2 \
    --row 'Baseline (STLT)' 'Obj. detections' $C/baseline_boxes_sthv2.py $W/toy_baseline_boxes_sthv2 \
    --row 'Baseline (flow)' 'Optical flow' $C/baseline_flow_sthv2.py $W/toy_baseline_flow_sthv2 \
    --row 'Teacher (RGB+boxes)' 'RGB frames & Obj. detections' $C/teacher_rgb_boxes_sthv2.py - \
    --row 'Student (RGB+boxes)' 'RGB frames' $C/student_rgb_boxes_sthv2.py $W/toy_student_rgb_boxes_sthv2 \
    --row 'Teacher (RGB+flow)' 'RGB frames & Optical flow' $C/teacher_rgb_flow_sthv2.py - \
    --row 'Student (RGB+flow)' 'RGB frames' $C/student_rgb_flow_sthv2.py $W/toy_student_rgb_flow_sthv2 \
    --row 'Teacher (RGB+flow+boxes)' 'RGB frames & Optical flow & Obj. detections' \
          $C/teacher_rgb_flow_boxes_sthv2.py - \
    --row 'Omnivore' 'RGB frames' $C/omnivore_sthv2.py $W/toy_omnivore_sthv2 \
    --row 'Student (RGB+flow+boxes)' 'RGB frames' $C/student_rgb_flow_boxes_sthv2.py \
          $W/toy_student_rgb_flow_boxes_sthv2 \
    --row 'D3D teacher (flow)' 'Optical flow' $D/teacher_flow_sthv2.py $W/toy_d3d_teacher_flow_sthv2 \
    --row 'D3D baseline' 'RGB frames ' $D/baseline_rgb_sthv2.py $W/toy_d3d_baseline_rgb_sthv2 \
    --row 'D3D student' 'RGB frames ' $D/student_sthv2.py $W/toy_d3d_student_sthv2 \
    --work-dir $W/toy_mm2rgb_table --out $W/toy_mm2rgb_table/table1.json 2>&1 \
    | grep -v -e Warning -e 'warnings.warn'
echo "(+x.x): gain over the RGB baseline (toy: slim ResNet3d in every video row). D3D rows are a separate table (compare them with each other)."
echo
echo "training time per run (s):"
column -t "$TIMES"
echo "total: $((SECONDS - T0)) s"
rm -f "$TIMES"
