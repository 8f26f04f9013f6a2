#!/usr/bin/env bash
# Download the wheels a bare GPU device machine (Python 3.12, torch 2.11 CUDA, numpy 2,
# opencv-python-headless, scipy, pandas, h5py, matplotlib, rich, pyyaml, einops, ... already
# there) needs to run tools/gpu_check.sh: the import closure of mmengine, mmcv-lite, mmaction2
# 1.1 and this plugin minus what the machine has (docs/gpu.md). About 21 MB.
#   bash tools/gpu_wheels.sh [DIR]          # default DIR: .whl (ignored by git)
# numpy is NOT carried: the device's scipy 1.18 refuses numpy 1.26 (`np.long`), and the first
# device run (docs/gpu.md, 2026-12-04) passed every step with the machine's numpy 2.5.2 and
# opencv 5.0.0 (the MMAction2 1.1 code paths we use don't touch numpy 2's removed names).
# setuptools 81: mmengine 0.10 imports pkg_resources, gone from setuptools 82.
# pandera / pydantic (+ their closure): the annotation schemas the datasets validate against;
# hypothesis (+ sortedcontainers): `pytest tests -m gpu` collects tests/test_fault_properties.py.
set -euo pipefail
DIR=${1:-.whl}
mkdir -p "$DIR"
for p in mmengine==0.10.7 mmcv-lite==2.0.1 mmaction2==1.1.0 decord==0.6.0 \
         addict==2.4.0 yapf==0.43.0 termcolor==3.3.0 platformdirs==4.14.7 setuptools==81.0.0 \
         pandera==0.35.0 pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 \
         typing-inspection==0.4.5 typeguard==4.6.1 typing-inspect==0.9.0 mypy_extensions==1.2.0 \
         hypothesis==6.170.27 sortedcontainers==2.4.0; do
    python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
        --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux2014_x86_64 --platform manylinux2010_x86_64 -d "$DIR" "$p"
done
du -sh "$DIR"
