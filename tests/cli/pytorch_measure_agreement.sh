#!/usr/bin/env bash
# `initscope measure` on a network PyTorch trained (tools/pytorch_measure_check.py): the same test
# error as PyTorch, and the same Hessian top eigenvalue as a float64 Lanczos on torch.autograd's
# Hessian-vector products. Skipped (exit 77) where PyTorch or MNIST is not on the machine.
set -euo pipefail
bin=$1
tools=$(dirname "$0")/../../tools
data=${INITSCOPE_DATA:-$HOME/.cache/initscope}
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null || { echo "skip: python3-torch is not installed"; exit 77; }
[[ -f $data/mnist/train-images-idx3-ubyte ]] || { echo "skip: MNIST is not in $data (initscope data fetch mnist)"; exit 77; }
/usr/bin/python3 "$tools/pytorch_measure_check.py" --initscope "$bin" --data-dir "$data"
