#!/usr/bin/env bash
# One prepared device check (docs/gpu.md): installs the wheels carried in .whl/ into /tmp/site,
# then trains, distils, caches and measures (tools/gpu_check.py). Results: $OUT/gpu_check.json,
# $OUT/gpu_check.md, $OUT/gpu_check_logs.txt (or --out DIR). Exit status non-zero when a step
# failed; rerun only some steps with --steps a,b,c.
#   bash tools/gpu_check.sh                      # on a lent GPU machine, from the repo root
#   bash tools/gpu_check.sh --steps measure_karmma,dist_train
cd "$(dirname "$0")/.." || exit 2
export PYTHONUNBUFFERED=1
exec "${PYTHON:-python3}" tools/gpu_check.py "$@"
