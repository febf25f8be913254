#!/usr/bin/env bash
# Hessian-vector products against torch.autograd in float64 on the same weights, rows and vector,
# for every activation, to 1e-4 relative (tools/pytorch_hvp_check.py). Skipped (exit 77) where
# PyTorch or MNIST is not on the machine.
set -euo pipefail
hvp_dump=$1
tools=$(dirname "$0")/../../tools
data=${INITSCOPE_DATA:-$HOME/.cache/initscope}
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null || { echo "skip: python3-torch is not installed"; exit 77; }
[[ -f $data/mnist/train-images-idx3-ubyte ]] || { echo "skip: MNIST is not in $data (initscope data fetch mnist)"; exit 77; }
/usr/bin/python3 "$tools/pytorch_hvp_check.py" --hvp-dump "$hvp_dump" --data-dir "$data"
