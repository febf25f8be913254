#!/usr/bin/python3
"""Trains the same network in PyTorch and in initscope from the same initial weights on the
same batches, and compares the losses and final weights.

initscope runs with `--subset first --shuffle off`, so both see the first m MNIST digits in
file order; PyTorch starts from initscope's init.safetensors (weights, and the Fourier
features' B), so the init scheme itself is initscope's. Exits 1 if the training-set losses
after each epoch or the final weights (max |difference| over max |weight|, per tensor) differ
by more than --tol relative.

  tools/pytorch_train_check.py [--initscope build/initscope] [--width 128] [--m 1024]
      [--epochs 3] [--loss ce|mse] [--activation relu|linear|tanh|sine|gaussian] [--lr 0.1]
      [--momentum 0.9] [--init NAME] [--omega0 W] [--omega0-hidden W] [--gauss-width S]
      [--encoding none|fourier|positional] [--fourier-features M] [--fourier-sigma S]
      [--pe-levels L] [--tol 1e-3] [--data-dir DIR]
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
from pytorch_check import Mlp, mlp_for, read_idx, read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--initscope", default=os.path.join(os.path.dirname(__file__), "..", "build", "initscope"))
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--m", type=int, default=1024)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--loss", default="ce", choices=["ce", "mse"])
    ap.add_argument("--activation", default="relu", choices=sorted(Mlp.ACTIVATIONS))
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--init", default=None)
    ap.add_argument("--omega0", default=None)
    ap.add_argument("--omega0-hidden", default=None)
    ap.add_argument("--gauss-width", default=None)
    ap.add_argument("--encoding", default=None, choices=["none", "fourier", "positional"])
    ap.add_argument("--fourier-features", default=None)
    ap.add_argument("--fourier-sigma", default=None)
    ap.add_argument("--pe-levels", default=None)
    ap.add_argument("--tol", type=float, default=1e-3, help="relative tolerance on losses and weights")
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="initscope_ptcheck_")
    cmd = [args.initscope, "train", "--dataset", "mnist", "--data-dir", args.data_dir, "--db", os.path.join(tmp, "r.db"),
           "--width", str(args.width), "--m", str(args.m), "--subset", "first", "--shuffle", "off",
           "--loss", args.loss, "--activation", args.activation, "--lr", str(args.lr), "--momentum", str(args.momentum),
           "--max-epochs", str(args.epochs), "--train-eval", "full", "--save-weights", tmp, "--json"]
    for flag in ("init", "omega0", "omega0_hidden", "gauss_width", "encoding", "fourier_features", "fourier_sigma",
                 "pe_levels"):
        if getattr(args, flag) is not None:
            cmd += ["--" + flag.replace("_", "-"), str(getattr(args, flag))]
    rec = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    show = subprocess.run([args.initscope, "show", str(rec["id"]), "--db", os.path.join(tmp, "r.db"), "--json", "--trajectory"],
                          check=True, capture_output=True, text=True).stdout
    ours_losses = [p["value"] for p in json.loads(show)["trajectory"] if p["name"] == "train_loss"]

    torch.set_num_threads(1)
    init, meta = read_safetensors(os.path.join(tmp, "init.safetensors"))
    final, _ = read_safetensors(os.path.join(tmp, "final.safetensors"))
    model = mlp_for(init, json.loads(meta["config"]))
    model.load_state_dict(init, strict=True)

    d = os.path.join(args.data_dir, "mnist")
    x = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.m].reshape(args.m, -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.m].astype(np.int64))
    opt = torch.optim.SGD([p for n, p in model.named_parameters() if n.startswith("layers.")], lr=args.lr,
                          momentum=args.momentum)

    def loss_fn(out, target):
        if args.loss == "ce":
            return torch.nn.functional.cross_entropy(out, target)
        return torch.nn.functional.mse_loss(out, torch.nn.functional.one_hot(target, 10).float())

    def full_loss():
        with torch.no_grad():
            return loss_fn(model(x), y).item()

    theirs_losses = [full_loss()]
    for _ in range(args.epochs):
        for start in range(0, args.m, 64):
            opt.zero_grad()
            loss_fn(model(x[start : start + 64]), y[start : start + 64]).backward()
            opt.step()
        theirs_losses.append(full_loss())

    ok = True
    steps = args.epochs * ((args.m + 63) // 64)
    print(f"activation {args.activation}, loss {args.loss}, init {args.init or 'xavier_normal'}, "
          f"encoding {args.encoding or 'none'}: {steps} steps, tolerance {args.tol:g} relative")
    print("epoch  initscope_loss  pytorch_loss  rel_diff")
    for e, (a, b) in enumerate(zip(ours_losses, theirs_losses)):
        rel = abs(a - b) / max(abs(b), 1e-12)
        ok &= rel < args.tol
        print(f"{e:5d}  {a:14.8f}  {b:12.8f}  {rel:.2e}")
    state = model.state_dict()
    worst = 0.0
    for k, t in final.items():
        diff = (t - state[k]).abs().max().item() / max(state[k].abs().max().item(), 1e-12)
        worst = max(worst, diff)
    print(f"final weights: max relative difference {worst:.2e} over {len(final)} tensors")
    ok &= worst < args.tol
    print("agree" if ok else "DISAGREE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
