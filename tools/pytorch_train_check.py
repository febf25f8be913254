#!/usr/bin/python3
"""Trains the same network in PyTorch and in initscope from the same initial weights on the
same batches, and compares the losses and final weights.

initscope runs with `--subset first --shuffle off`, so both see the first m MNIST digits in
file order; PyTorch starts from initscope's init.safetensors (weights, and the Fourier
features' B), so the init scheme itself is initscope's. The optimizer is torch.optim.SGD (sgd:
minibatches of 64; gd: the mean loss over all m rows each step, one step per epoch) or
torch.optim.Adam (adam: minibatches of 64). --steps caps the number of steps (initscope's
--max-steps); the losses compared are the whole training set's, after every epoch and at the
cap. Exits 1 if any loss or any tensor of the final weights differs by more than --tol
(relative: |a − b| / |b| for losses, max |a − b| / max |b| per tensor, or ||a − b|| / ||b|| with
--weights fro).

  tools/pytorch_train_check.py [--initscope build/initscope] [--width 128] [--m 1024]
      [--epochs 3] [--steps N] [--optimizer sgd|adam|gd] [--loss ce|mse]
      [--activation relu|linear|tanh|sine|gaussian] [--lr 0.1] [--momentum 0.9] [--beta1 0.9]
      [--beta2 0.999] [--eps 1e-8] [--init NAME] [--omega0 W] [--omega0-hidden W]
      [--gauss-width S] [--encoding none|fourier|positional] [--fourier-features M]
      [--fourier-sigma S] [--pe-levels L] [--tol 1e-3] [--weights max|fro] [--float64]
      [--data-dir DIR]
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
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "gd"])
    ap.add_argument("--steps", type=int, default=-1, help="cap on steps (-1: none)")
    ap.add_argument("--beta1", type=float, default=0.9)
    ap.add_argument("--beta2", type=float, default=0.999)
    ap.add_argument("--eps", type=float, default=1e-8)
    ap.add_argument("--tol", type=float, default=1e-3, help="largest relative difference accepted")
    ap.add_argument("--weights", default="max", choices=["max", "fro"],
                    help="per tensor: max |a-b| / max |b| (max) or ||a-b|| / ||b|| (fro)")
    ap.add_argument("--float64", action="store_true",
                    help="also train in PyTorch in float64 and print both engines' distance to it")
    ap.add_argument("--init", default=None)
    ap.add_argument("--omega0", default=None)
    ap.add_argument("--omega0-hidden", default=None)
    ap.add_argument("--gauss-width", default=None)
    ap.add_argument("--encoding", default=None, choices=["none", "fourier", "positional"])
    ap.add_argument("--fourier-features", default=None)
    ap.add_argument("--fourier-sigma", default=None)
    ap.add_argument("--pe-levels", default=None)
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    args = ap.parse_args()

    tmp = tempfile.mkdtemp(prefix="initscope_ptcheck_")
    cmd = [args.initscope, "train", "--dataset", "mnist", "--data-dir", args.data_dir, "--db", os.path.join(tmp, "r.db"),
           "--width", str(args.width), "--m", str(args.m), "--subset", "first", "--shuffle", "off",
           "--loss", args.loss, "--activation", args.activation, "--lr", repr(args.lr),
           "--optimizer", args.optimizer, "--max-epochs", str(args.epochs), "--max-steps", str(args.steps),
           "--train-eval", "full", "--save-weights", tmp, "--json"]
    if args.optimizer == "adam":
        cmd += ["--beta1", repr(args.beta1), "--beta2", repr(args.beta2), "--eps", repr(args.eps)]
    else:
        cmd += ["--momentum", repr(args.momentum)]
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
    config = json.loads(meta["config"])
    d = os.path.join(args.data_dir, "mnist")
    x32 = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.m].reshape(args.m, -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.m].astype(np.int64))
    batch = args.m if args.optimizer == "gd" else 64

    def loss_fn(out, target):
        if args.loss == "ce":
            return torch.nn.functional.cross_entropy(out, target)
        return torch.nn.functional.mse_loss(out, torch.nn.functional.one_hot(target, 10).to(out.dtype))

    def train(dtype):
        """The run in PyTorch in `dtype`: (losses after every epoch and at the cap, final state, steps)."""
        model = mlp_for(init, config)
        model.load_state_dict(init, strict=True)
        model.to(dtype)
        x = x32.to(dtype)
        # The layers' weights train; an input encoding's B is fixed, as in initscope.
        params = [p for n, p in model.named_parameters() if n.startswith("layers.")]
        if args.optimizer == "adam":
            opt = torch.optim.Adam(params, lr=args.lr, betas=(args.beta1, args.beta2), eps=args.eps)
        else:
            opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)

        def full_loss():
            with torch.no_grad():
                return loss_fn(model(x), y).item()

        losses, steps = [full_loss()], 0
        for _ in range(args.epochs):
            for start in range(0, args.m, batch):
                opt.zero_grad()
                loss_fn(model(x[start : start + batch]), y[start : start + batch]).backward()
                opt.step()
                steps += 1
                if steps == args.steps:
                    break
            losses.append(full_loss())
            if steps == args.steps:
                break
        return losses, {k: v.float() for k, v in model.state_dict().items()}, steps

    def compare(name, losses_a, state_a, losses_b, state_b, verbose):
        """Largest relative difference of the losses, and per tensor of the final weights."""
        worst_loss = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses_a, losses_b))
        worst_max = worst_fro = 0.0
        for k in sorted(state_b):
            a, b = state_a[k], state_b[k]
            mx = (a - b).abs().max().item() / max(b.abs().max().item(), 1e-12)
            fro = ((a - b).norm() / max(b.norm().item(), 1e-12)).item()
            if verbose:
                print(f"  {k:<16} max |a-b| / max |b| {mx:.2e}   ||a-b|| / ||b|| {fro:.2e}")
            worst_max, worst_fro = max(worst_max, mx), max(worst_fro, fro)
        print(f"{name}: losses {worst_loss:.2e}, weights max-element {worst_max:.2e}, "
              f"weights Frobenius {worst_fro:.2e} (largest relative differences)")
        return worst_loss, worst_max, worst_fro

    theirs_losses, state, steps = train(torch.float32)
    ok = len(ours_losses) == len(theirs_losses)
    print(f"optimizer {args.optimizer}, activation {args.activation}, loss {args.loss}, lr {args.lr}, "
          f"init {args.init or 'xavier_normal'}, encoding {args.encoding or 'none'}: {steps} steps")
    print("epoch  initscope_loss  pytorch_loss  rel_diff")
    for e, (a, b) in enumerate(zip(ours_losses, theirs_losses)):
        print(f"{e:5d}  {a:14.8f}  {b:12.8f}  {abs(a - b) / max(abs(b), 1e-12):.2e}")
    worst_loss, worst_max, worst_fro = compare("initscope vs PyTorch", ours_losses, final, theirs_losses, state, True)
    worst = worst_max if args.weights == "max" else worst_fro
    if args.float64:
        # The float32 noise floor of this very run: how far each float32 engine lands from the
        # same training done in float64.
        losses64, state64, _ = train(torch.float64)
        compare("PyTorch float32 vs PyTorch float64", theirs_losses, state, losses64, state64, False)
        compare("initscope vs PyTorch float64", ours_losses, final, losses64, state64, False)
    ok &= worst_loss < args.tol and worst < args.tol
    print(f"agree (tolerance {args.tol:g}, weights {args.weights})" if ok
          else f"DISAGREE (tolerance {args.tol:g}, weights {args.weights})")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
