#!/usr/bin/python3
"""Trains a small MLP in PyTorch, saves it as safetensors, and checks `initscope measure` on it.

What a PyTorch user does: train a network of their own, save its state_dict under the names
initscope reads (a ModuleList called `layers`), and ask initscope for its measures. The check:
  - test_error from `initscope measure` equals PyTorch's on the 10,000 MNIST test digits (to one
    digit: float32 sums in another order may move a logit tie);
  - dist_init equals the distance PyTorch's two state_dicts are apart (relative 1e-6);
  - hessian_lambda_max (initscope: 20 Lanczos steps in float) equals the top eigenvalue of the
    Hessian of the mean cross-entropy over the same training rows, computed here in float64 by
    Lanczos with full reorthogonalization on torch.autograd Hessian-vector products, to --tol.
Exits 1 if any differs.

  tools/pytorch_measure_check.py [--initscope build/initscope] [--data-dir DIR] [--m 1024]
      [--width 64] [--depth 3] [--activation relu] [--epochs 3] [--tol 1e-4]

Needs python3-torch and python3-numpy; reads MNIST from the data directory, downloads nothing.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pytorch_check import Mlp, read_idx  # noqa: E402


def write_safetensors(path, tensors):
    """The format initscope reads: 8-byte little-endian header length, JSON header, F32 data."""
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        b = t.detach().to(torch.float32).contiguous().numpy().astype("<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def hessian_top_eigenvalue(model, x, y, steps=80, seed=0):
    """Largest algebraic eigenvalue of the Hessian of the mean CE loss at the model's weights, in
    float64: Lanczos with full reorthogonalization on double-backward HVPs."""
    params = [p for p in model.parameters()]
    loss = torch.nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)
    flat_g = torch.cat([g.reshape(-1) for g in grads])
    n = flat_g.numel()

    def hvp(v):
        hv = torch.autograd.grad(flat_g @ v, params, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    g = torch.Generator().manual_seed(seed)
    q = torch.randn(n, generator=g, dtype=torch.float64)
    q /= q.norm()
    Q, alphas, betas = [q], [], []
    for k in range(min(steps, n)):
        w = hvp(Q[-1])
        a = torch.dot(w, Q[-1]).item()
        alphas.append(a)
        for qq in Q:  # full reorthogonalization (twice is enough)
            w -= torch.dot(w, qq) * qq
        for qq in Q:
            w -= torch.dot(w, qq) * qq
        b = w.norm().item()
        if b < 1e-12:
            break
        betas.append(b)
        Q.append(w / b)
    T = np.diag(alphas) + np.diag(betas[: len(alphas) - 1], 1) + np.diag(betas[: len(alphas) - 1], -1)
    return float(np.linalg.eigvalsh(T)[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--initscope", default=os.path.join(os.path.dirname(__file__), "..", "build", "initscope"))
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    ap.add_argument("--m", type=int, default=1024)
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--activation", default="relu", choices=sorted(Mlp.ACTIVATIONS))
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--tol", type=float, default=1e-4, help="largest relative difference of lambda_max")
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(1)
    d = os.path.join(args.data_dir, "mnist")
    xtr = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.m].reshape(args.m, -1)
                           .astype(np.float32) / 255.0)
    ytr = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.m].astype(np.int64))
    xte_u8 = read_idx(os.path.join(d, "t10k-images-idx3-ubyte"))
    xte = torch.from_numpy(xte_u8.reshape(xte_u8.shape[0], -1).astype(np.float32) / 255.0)
    yte = torch.from_numpy(read_idx(os.path.join(d, "t10k-labels-idx1-ubyte")).astype(np.int64))

    sizes = [784] + [args.width] * (args.depth - 1) + [10]
    model = Mlp(sizes, args.activation)  # PyTorch's default nn.Linear init: the user's own
    init = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    perm_gen = torch.Generator().manual_seed(1)
    for _ in range(args.epochs):
        perm = torch.randperm(args.m, generator=perm_gen)
        for s in range(0, args.m, 64):
            idx = perm[s : s + 64]
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xtr[idx]), ytr[idx]).backward()
            opt.step()
    final = {k: v.clone() for k, v in model.state_dict().items()}

    with torch.no_grad():
        test_error = (model(xte).argmax(1) != yte).double().mean().item()
        train_error = (model(xtr).argmax(1) != ytr).double().mean().item()
    dist = float(np.sqrt(sum(((final[k].double() - init[k].double()) ** 2).sum().item() for k in final)))
    model64 = Mlp(sizes, args.activation).double()
    model64.load_state_dict({k: v.double() for k, v in final.items()})
    lam = hessian_top_eigenvalue(model64, xtr.double(), ytr)

    tmp = tempfile.mkdtemp(prefix="initscope_measure_check_")
    write_safetensors(os.path.join(tmp, "init.safetensors"), init)
    write_safetensors(os.path.join(tmp, "final.safetensors"), final)
    cmd = [args.initscope, "measure", "--weights", os.path.join(tmp, "final.safetensors"),
           "--init", os.path.join(tmp, "init.safetensors"), "--dataset", "mnist", "--m", str(args.m),
           "--subset", "first", "--activation", args.activation, "--loss", "ce",
           "--measures", "errors,weights,lambda_max", "--data-dir", args.data_dir,
           "--db", os.path.join(tmp, "m.db"), "--json"]
    rec = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
    m = rec["metrics"]
    ok = rec["kind"] == "measured" and rec["status"] == "completed"
    rows = [("test_error", m["test_error"], test_error, 1.5e-4, "abs"),
            ("train_error", m["train_error"], train_error, 1.5e-4 * 10000 / args.m, "abs"),
            ("dist_init", m["dist_init"], dist, 1e-6, "rel"),
            ("hessian_lambda_max", m["hessian_lambda_max"], lam, args.tol, "rel")]
    print(f"{args.depth} layers of width {args.width}, {args.activation}, m = {args.m}, "
          f"{args.epochs} epochs of SGD in PyTorch; initscope run {rec['id']} of kind {rec['kind']}")
    print(f"{'metric':<20} {'initscope':>16} {'pytorch':>16} {'diff':>10}  tolerance")
    for name, ours, theirs, tol, kind in rows:
        diff = abs(ours - theirs) / (abs(theirs) if kind == "rel" else 1.0)
        ok &= diff <= tol
        print(f"{name:<20} {ours:16.10g} {theirs:16.10g} {diff:10.2e}  {tol:g} ({kind})")
    print("agree" if ok else "DISAGREE")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
