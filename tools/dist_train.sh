#!/usr/bin/env bash
# Distributed training, MMAction2's command line: tools/dist_train.sh CONFIG NPROC [ARGS...]
# On a machine without CUDA the plugin initialises the gloo backend itself; to choose it
# explicitly add `--cfg-options env_cfg.dist_cfg.backend=gloo`. PYTHON picks the interpreter
# (default: `python` on PATH).
set -x

CONFIG=$1
GPUS=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
PORT=${PORT:-29500}
MASTER_ADDR=${MASTER_ADDR:-"127.0.0.1"}

PYTHONPATH="$(dirname $0)/..":$PYTHONPATH \
${PYTHON:-python} -m torch.distributed.run --nnodes=$NNODES --node_rank=$NODE_RANK --master_addr=$MASTER_ADDR \
    --nproc_per_node=$GPUS --master_port=$PORT $(dirname "$0")/train.py $CONFIG --launcher pytorch ${@:3}
# Any arguments from the third one are captured by ${@:3}
