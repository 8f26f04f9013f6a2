#!/usr/bin/env bash
# Mutual (Modality) Learning on the toy SSv2 data: stage 1 (two RGB networks, CE, in separate
# runs with different seeds, as the paper trains them), an independent flow network (from the
# stage-1 RGB weights), stage 2 ML (the two RGB networks teach each other), stage 3 MML (RGB +
# flow teach each other, both from the ML RGB network); prints a table laid out like MML Tab. 7
# (top-1 %; Σ / Φ only for networks trained together).
#   bash tools/mml_toy_demo.sh          (SEED=1 for another seed, SKIP_TRAINED=1 reuses runs)
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
for m in rgb rgb2 flow ml mml; do   # order matters: each stage reads the previous work dir
    wd=$W/toy_mml_${m}_sthv2
    cfg=configs/mml/toy/${m/rgb2/rgb}_sthv2.py   # "RGB2": the stage-1 config, another seed
    seed=$SEED; [ $m = rgb2 ] && seed=$((SEED + 500))
    if [ "${SKIP_TRAINED:-0}" != 1 ] || [ ! -f "$wd/last_checkpoint" ]; then
        t0=$SECONDS
        echo "== training $cfg → $wd"
        python tools/train.py $cfg --work-dir $wd --seed "$seed" --deterministic > $wd.log 2>&1 \
            || { tail -30 $wd.log; exit 1; }
        echo "   $((SECONDS - t0)) s"
    fi
    python tools/test.py $cfg $(ls $wd/best_rgb_top1_*.pth | head -1) --work-dir $wd \
        > $wd.test.log 2>&1 || { tail -30 $wd.test.log; exit 1; }
done
echo
echo "MML Tab. 7 layout, toy SSv2 validation (6 classes, chance 16.67), top-1 %:"
python tools/analysis/ensemble_table.py --columns rgb rgb_b flow \
    --row 'Independent' $W/toy_mml_rgb_sthv2.test.log \
    --row 'Independent RGB2' $W/toy_mml_rgb2_sthv2.test.log \
    --row 'Indep. flow' $W/toy_mml_flow_sthv2.test.log \
    --row 'ML' $W/toy_mml_ml_sthv2.test.log \
    --row 'MML' $W/toy_mml_mml_sthv2.test.log
echo "total: $((SECONDS - T0)) s"
