#!/usr/bin/python3
"""Checks initscope's Hessian-vector products against torch.autograd, for every activation.

For each case: a PyTorch MLP with its default nn.Linear init (seeded) is saved as safetensors;
initscope's helper `hvp_dump` (tests/measure/hvp_dump.cpp: the production float path behind
--flatness and `initscope measure`) computes H·v of the mean training loss over the first m MNIST
digits for a seeded v and writes v and H·v; PyTorch recomputes H·v in float64 by double
backward (torch.autograd.grad of <grad L, v>) on the same weights, rows and v. Prints
||Hv_initscope - Hv_torch|| / ||Hv_torch|| and the largest element difference over max |Hv_torch|
per case; exits 1 if any relative norm difference exceeds --tol (default 1e-4).

  tools/pytorch_hvp_check.py --hvp-dump build/tests/measure/hvp_dump [--data-dir DIR] [--m 256]
      [--width 32] [--depth 3] [--tol 1e-4]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_check import Mlp, read_idx  # noqa: E402
from pytorch_measure_check import write_safetensors  # noqa: E402

# (activation, loss): every activation with cross-entropy, and the squared loss once. sine uses
# SIREN's omega0 = 30 with small weights (PyTorch's default init scaled by 1/30, as SIREN's hidden
# layers are); gaussian its default width 1.
CASES = [("relu", "ce"), ("linear", "ce"), ("tanh", "ce"), ("sine", "ce"), ("gaussian", "ce"), ("tanh", "mse")]


def torch_hvp(model, x, y, v, loss):
    params = list(model.parameters())
    out = model(x)
    if loss == "ce":
        L = torch.nn.functional.cross_entropy(out, y)
    else:  # initscope's mse: (1/K) sum_k (f_k - onehot_k)^2, averaged over rows
        L = torch.nn.functional.mse_loss(out, torch.nn.functional.one_hot(y, out.shape[1]).to(out.dtype))
    g = torch.autograd.grad(L, params, create_graph=True)
    flat_g = torch.cat([t.reshape(-1) for t in g])
    hv = torch.autograd.grad(flat_g @ v, params)
    return L.item(), torch.cat([t.reshape(-1) for t in hv])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hvp-dump", required=True)
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    ap.add_argument("--m", type=int, default=256)
    ap.add_argument("--width", type=int, default=32)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-4)
    args = ap.parse_args()

    torch.set_num_threads(1)
    d = os.path.join(args.data_dir, "mnist")
    x = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.m].reshape(args.m, -1)
                         .astype(np.float32) / 255.0).double()
    y = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.m].astype(np.int64))
    sizes = [784] + [args.width] * (args.depth - 1) + [10]
    tmp = tempfile.mkdtemp(prefix="initscope_hvp_check_")
    env = dict(os.environ, INITSCOPE_DATA=args.data_dir)
    ok = True
    print(f"{args.depth} layers of width {args.width}, first {args.m} MNIST digits, H.v in float (initscope) "
          f"vs float64 (torch.autograd)")
    print(f"{'activation':<10} {'loss':<4} {'loss rel diff':>13} {'||dHv||/||Hv||':>15} {'max|dHv|/max|Hv|':>17}")
    for k, (act, loss) in enumerate(CASES):
        torch.manual_seed(100 + k)
        model = Mlp(sizes, act)
        if act == "sine":
            with torch.no_grad():
                for p in model.parameters():
                    p /= 30.0
        path = os.path.join(tmp, f"{k}.safetensors")
        write_safetensors(path, model.state_dict())
        cmd = [args.hvp_dump, "--weights", path, "--out", tmp, "--dataset", "mnist", "--m", str(args.m),
               "--subset", "first", "--activation", act, "--loss", loss, "--width", str(args.width),
               "--depth", str(args.depth), "--seed", str(k + 1)]
        res = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True, env=env).stdout)
        v = torch.from_numpy(np.fromfile(os.path.join(tmp, "v.f64"), dtype="<f8"))
        hv_ours = torch.from_numpy(np.fromfile(os.path.join(tmp, "hv.f64"), dtype="<f8"))
        model = model.double()
        L, hv = torch_hvp(model, x, y, v, loss)
        rel = ((hv_ours - hv).norm() / hv.norm()).item()
        mx = ((hv_ours - hv).abs().max() / hv.abs().max()).item()
        lrel = abs(res["loss"] - L) / abs(L)
        ok &= rel <= args.tol
        print(f"{act:<10} {loss:<4} {lrel:13.2e} {rel:15.2e} {mx:17.2e}")
    print(f"agree (tolerance {args.tol:g})" if ok else f"DISAGREE (tolerance {args.tol:g})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
