#!/usr/bin/env bash
# DMCL (dmcl.txt) on the toy SSv2 data with RGB, depth and flow: independent, SMCL, CMCL, random
# teacher and DMCL, each three slim ResNet3d networks trained together, then tested; prints a
# table laid out like DMCL Tab. 1 (each modality, Σ, Φ; top-1 in %).
#   bash tools/dmcl_toy_demo.sh          (SEED=1 for another seed, SKIP_TRAINED=1 reuses runs)
set -euo pipefail
cd "$(dirname "$0")/.."
W=work_dirs
SEED=${SEED:-0}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} MKL_NUM_THREADS=${MKL_NUM_THREADS:-1}
if [ ! -d data/toy/sthv2/depth ]; then
    python tools/data/generate_toy_dataset.py --out-dir data/toy --datasets sthv2 --seed 0
fi
mkdir -p $W
T0=$SECONDS
ROWS=()
for m in independent smcl cmcl random_teacher dmcl; do
    wd=$W/toy_dmcl_${m}_sthv2
    cfg=configs/dmcl/toy/${m}_sthv2.py
    if [ "${SKIP_TRAINED:-0}" != 1 ] || [ ! -f "$wd/last_checkpoint" ]; then
        t0=$SECONDS
        echo "== training $cfg → $wd"
        python tools/train.py $cfg --work-dir $wd --seed "$SEED" --deterministic > $wd.log 2>&1 \
            || { tail -30 $wd.log; exit 1; }
        grep 'Epoch(train)' $wd.log | tail -1 | grep -o 'winner_rate.*' || true
        echo "   $((SECONDS - t0)) s"
    fi
    ckpt=$(ls $wd/best_rgb_top1_*.pth | head -1)
    python tools/test.py $cfg $ckpt --work-dir $wd > $wd.test.log 2>&1 \
        || { tail -30 $wd.test.log; exit 1; }
    ROWS+=(--row "$m" $wd.test.log)
done
echo
echo "DMCL Tab. 1 layout, toy SSv2 validation (6 classes, chance 16.67), top-1 %:"
python tools/analysis/ensemble_table.py --columns rgb depth flow "${ROWS[@]}"
echo "total: $((SECONDS - T0)) s"
