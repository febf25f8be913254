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
# Adam (minibatches of 64) and full-batch gd with momentum: 50 steps each, to 1e-5 relative.
# Adam's weights are compared by ||a-b||/||b|| per tensor: its largest single-element difference
# (~5e-5) is float32's own noise floor for this run (PyTorch float32 vs float64 differ as much;
# --float64 prints it). gd runs on tanh: with ReLU, 50 full-batch steps cross activation kinks
# where float32 rounding decides which side a unit is on, and both engines drift apart from
# float64 by up to 1e-3 (PyTorch float32 vs float64 at m = 2048: 8e-4 max-element).
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" --optimizer adam --lr 1e-3 --epochs 4 --steps 50 --tol 1e-5 --weights fro
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" --optimizer gd --activation tanh --lr 0.02 --momentum 0.9 --epochs 50 --steps 50 --tol 1e-5
# RM23's models, 50 steps each (m = 640, batch 64, 5 epochs) to 1e-5 relative on the losses after
# every epoch and on the final weights. sine from SIREN's init at ω₀ = 30 needs a small SGD step:
# from lr 3e-3 on, the run turns chaotic (its loss rises again) and any rounding difference grows.
rm23=(--m 640 --epochs 5 --tol 1e-5)
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" "${rm23[@]}" --activation sine --init siren --lr 0.001
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" "${rm23[@]}" --activation gaussian --init torch_default --lr 0.1
/usr/bin/python3 "$tools/pytorch_train_check.py" --initscope "$bin" --data-dir "$data" "${rm23[@]}" --encoding fourier --fourier-features 128 --fourier-sigma 0.05 --lr 0.1
