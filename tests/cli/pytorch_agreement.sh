#!/usr/bin/env bash
# initscope and PyTorch trained from the same init on the same batches must agree. Skipped
# (exit 77) where PyTorch or the MNIST files are not on the machine: this test downloads nothing.
set -euo pipefail
bin=$1
tools=$(dirname "$0")/../../tools
data=${INITSCOPE_DATA:-$HOME/.cache/initscope}
/usr/bin/python3 -c "import torch, numpy" 2>/dev/null || { echo "skip: python3-torch is not installed"; exit 77; }
[[ -f $data/mnist/train-images-idx3-ubyte ]] || { echo "skip: MNIST is not in $data (initscope data fetch mnist)"; exit 77; }
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" --epochs 2 --loss ce --lr 0.1
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" --epochs 2 --loss mse --lr 0.01 --width 64
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" --epochs 2 --loss ce --lr 0.1 --activation tanh
