#!/usr/bin/env bash
# Detection extra: MMCV 2.0.x *with* its compiled ops (mmcv._ext) plus MMDetection, into the
# active environment, for tools/data/extract_detections.py. Run it after README's install:
#
#   bash tools/install_det.sh
#
# Why a script and not only `pip install ".[det]"`: no binary mmcv wheel exists on PyPI, so pip
# builds mmcv from its sdist. That build
#   * needs torch at build time (`--no-build-isolation`; in an isolated build mmcv's setup.py
#     silently skips the ops and installs an mmcv without `mmcv._ext`),
#   * hard-codes `-std=c++14`, which torch >= 2.1's headers reject: a compiler wrapper turns it
#     into `-std=c++17` (mmcv's sources are unchanged),
#   * compiles ~80 files against torch's headers. `-g0` (no debug symbols) leaves the machine
#     code unchanged (GCC's -g never changes code generation) and cuts the compile time: this
#     script took 351 s on a 2-core machine with an empty pip cache (2026-12-05), against 20-25
#     min noted for a build with debug symbols; the optimisation level stays Python's (-O3).
# pip keeps the built wheel in its cache (`pip cache dir`): the next install on this machine,
# in any environment with the same Python, takes seconds.
#
# mmcv and mmcv-lite both provide the `mmcv` package: this script uninstalls mmcv-lite (the
# `cpu` extra's) first. To go back: `pip uninstall -y mmcv && pip install mmcv-lite==2.0.1`.
#
# Environment: MMCV_SPEC (default mmcv==2.0.1; MMAction2 1.1 refuses mmcv >= 2.1), MAX_JOBS
# (parallel compiler jobs; default: the number of cores), CONSTRAINTS (default
# requirements/constraints.txt). Extra arguments go to the mmcv `pip install`.
set -euo pipefail
cd "$(dirname "$0")/.."
MMCV_SPEC=${MMCV_SPEC:-mmcv==2.0.1}
CONSTRAINTS=${CONSTRAINTS:-requirements/constraints.txt}
start=$(date +%s)

python -c 'import torch' 2>/dev/null || {
    echo 'install_det.sh: torch is not importable: run README.md`s install first' >&2; exit 1; }

has_ops() { python -c 'import mmcv, mmcv._ext' >/dev/null 2>&1; }

if has_ops; then
    echo "mmcv with compiled ops already installed ($(python -c 'import mmcv; print(mmcv.__version__)'))"
else
    if pip show -q mmcv-lite 2>/dev/null; then pip uninstall -y mmcv-lite; fi
    wrapper_dir=$(mktemp -d)
    trap 'rm -rf "$wrapper_dir"' EXIT
    # mmcv 2.0.x passes -std=c++14 last on the command line; torch >= 2.1 needs C++17.
    cat > "$wrapper_dir/c++" <<'EOF'
#!/bin/sh
for a do
    shift
    if [ "$a" = "-std=c++14" ]; then a="-std=c++17"; fi
    set -- "$@" "$a"
done
exec "${MMDISTILL_REAL_CXX:-c++}" "$@"
EOF
    chmod +x "$wrapper_dir/c++"
    install_mmcv() {
        MMDISTILL_REAL_CXX=${CXX:-c++} CXX="$wrapper_dir/c++" CFLAGS="${CFLAGS:-} -g0" \
            MMCV_WITH_OPS=1 MAX_JOBS=${MAX_JOBS:-$(nproc)} \
            pip install --no-build-isolation -c "$CONSTRAINTS" "$@" "$MMCV_SPEC"
    }
    install_mmcv "$@"
    if ! has_ops; then
        # a wheel cached from a build against another torch (ABI) or without ops: rebuild once
        echo 'mmcv._ext does not import; rebuilding mmcv without the cached wheel' >&2
        python -c 'import mmcv._ext' || true
        pip cache remove 'mmcv-*' || true
        install_mmcv --force-reinstall --no-cache-dir "$@"
    fi
    has_ops || { python -c 'import mmcv._ext'; exit 1; }
fi

pip install -r requirements/det.txt -c "$CONSTRAINTS"
python -c 'import mmcv, mmcv._ext, mmdet, mmdet.models; print("mmcv", mmcv.__version__, "with ops; mmdet", mmdet.__version__)'
echo "install_det.sh took $(( $(date +%s) - start )) s"
