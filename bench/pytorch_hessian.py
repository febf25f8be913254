#!/usr/bin/python3
"""The PyTorch side of bench/hessian.sh: λ_max by Lanczos and the Hutchinson trace, as a
PyHessian-style loop computes them, on initscope's weights and rows; one JSON line on stdout.

PyHessian's single-batch path (pyhessian/hessian.py, measures-reference.md §1.1): the model in
eval mode, one forward pass, the gradient taken with create_graph=True and kept, and every
Hessian-vector product as torch.autograd.grad(grads, params, grad_outputs=v, retain_graph=True).
On top of it the same algorithms hessian_bench runs: Lanczos with full reorthogonalization for
exactly --lanczos products from a Gaussian start (PyHessian's own eigenvalues() is power
iteration, which needs more products for the same accuracy: a fair comparison runs Lanczos on
both sides), and exactly --probes Rademacher probes. float32 throughout, as PyHessian. Timed:
one gradient (best of 3), one product (best of 3), the whole Lanczos and the whole trace,
excluding data loading and the create_graph forward/backward (built once and reused, as
PyHessian does).

  bench/pytorch_hessian.py WEIGHTS.safetensors --rows 4096 [--lanczos 20] [--probes 100]
      [--threads 1] [--data-dir DIR]
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from pytorch_check import Mlp, read_idx, read_safetensors  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights")
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--lanczos", type=int, default=20)
    ap.add_argument("--probes", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    tensors, _ = read_safetensors(args.weights)
    depth = len([k for k in tensors if k.endswith(".weight")])
    sizes = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in range(depth)]
    model = Mlp(sizes, "relu")
    model.load_state_dict(tensors)
    model.eval()
    d = os.path.join(args.data_dir, "mnist")
    x = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.rows]
                         .reshape(args.rows, -1).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.rows].astype(np.int64))
    params = [p for p in model.parameters() if p.requires_grad]
    n = sum(p.numel() for p in params)

    grad_s = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        torch.autograd.grad(loss, params)
        grad_s = min(grad_s, time.perf_counter() - t)

    loss = torch.nn.functional.cross_entropy(model(x), y)
    grads = torch.autograd.grad(loss, params, create_graph=True)

    def split(flat):
        out, k = [], 0
        for p in params:
            out.append(flat[k : k + p.numel()].view_as(p))
            k += p.numel()
        return out

    def hvp(v):
        hv = torch.autograd.grad(grads, params, grad_outputs=split(v), retain_graph=True)
        return torch.cat([h.reshape(-1) for h in hv])

    g = torch.Generator().manual_seed(0)
    v = torch.randn(n, generator=g)
    hvp_s = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        hvp(v)
        hvp_s = min(hvp_s, time.perf_counter() - t)

    t = time.perf_counter()
    q = torch.randn(n, generator=g)
    q /= q.norm()
    Q, alphas, betas = [q], [], []
    for k in range(args.lanczos):
        w = hvp(Q[-1])
        alphas.append(torch.dot(w, Q[-1]).item())
        for qq in Q:
            w -= torch.dot(w, qq) * qq
        b = w.norm().item()
        if k + 1 == args.lanczos or b == 0.0:
            break
        betas.append(b)
        Q.append(w / b)
    T = np.diag(alphas) + np.diag(betas[: len(alphas) - 1], 1) + np.diag(betas[: len(alphas) - 1], -1)
    lam = float(np.linalg.eigvalsh(T)[-1])
    lanczos_s = time.perf_counter() - t

    t = time.perf_counter()
    samples = []
    for _ in range(args.probes):
        r = torch.randint(0, 2, (n,), generator=g).float() * 2 - 1
        samples.append(torch.dot(hvp(r), r).item())
    trace_s = time.perf_counter() - t
    print(json.dumps({"engine": "pytorch", "torch": torch.__version__, "width": sizes[1], "rows": args.rows,
                      "threads": args.threads, "num_params": n, "grad_seconds": grad_s, "hvp_seconds": hvp_s,
                      "hvp_over_grad": hvp_s / grad_s, "lanczos_steps": len(alphas), "lanczos_seconds": lanczos_s,
                      "lambda_max": lam, "probes": args.probes, "trace_seconds": trace_s,
                      "trace": float(np.mean(samples)),
                      "trace_se": float(np.std(samples, ddof=1) / np.sqrt(len(samples)))}))


if __name__ == "__main__":
    main()
