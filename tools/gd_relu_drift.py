#!/usr/bin/python3
"""How far full-batch GD drifts from its float64 trajectory, engine by engine, and why.

Trains one network from initscope's init on the first m MNIST digits with full-batch gradient
descent (SGD with momentum on the mean loss over all m rows, one step per epoch), in:
  float64    PyTorch in double: the reference trajectory everything is measured against;
  initscope  our binary (--optimizer gd), its weights saved after the steps in --at;
  pytorch    PyTorch float32, the gradient of the whole batch at once (one sgemm per product);
  chunked    PyTorch float32 computing the gradient as initscope does: float sums over chunks
             of 256 rows, added in double, divided by m once (gradient.hpp) -- the same
             arithmetic in another library, so it shows what our summation order alone does;
  nudged-k   PyTorch float32 from the init with every weight moved by one float32 ulp in a
             seeded random direction (k = 1..--nudges): the smallest perturbation there is.
For each, after the steps in --at: the largest relative weight difference to float64 (per
tensor max |a - b| / max |b|, the largest tensor; the measure pytorch_train_check.py applies)
and how many of the m x (hidden units) pre-activations lie on the other side of ReLU's kink
than in float64. For the float64 trajectory itself: how many pre-activations change sign in
each step (kink crossings made by the dynamics) and how many lie within 1e-6 of the kink
relative to their layer's largest |z|, where a float32 rounding can decide the side.

  tools/gd_relu_drift.py [--initscope build/initscope] [--m 1024] [--width 128] [--lr 0.02]
      [--momentum 0.9] [--steps 50] [--at 10,20,30,40,43,46,50] [--activation relu] [--nudges 3]
      [--loss ce] [--data-dir DIR]
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
from pytorch_check import mlp_for, read_idx, read_safetensors  # noqa: E402

CHUNK = 256  # k_gradient_chunk in src/objective/gradient.hpp


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--initscope", default=os.path.join(os.path.dirname(__file__), "..", "build", "initscope"))
    ap.add_argument("--m", type=int, default=1024)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--at", default="10,20,30,40,43,46,50", help="steps at which to compare (A-B: a range)")
    ap.add_argument("--activation", default="relu", choices=["relu", "tanh"])
    ap.add_argument("--loss", default="ce", choices=["ce", "mse"])
    ap.add_argument("--nudges", type=int, default=3, help="one-ulp perturbed PyTorch float32 runs")
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    args = ap.parse_args()
    at = set()
    for part in args.at.split(","):
        lo, _, hi = part.partition("-")
        at.update(range(int(lo), int(hi or lo) + 1))
    at = sorted(s for s in at if 1 <= s <= args.steps)

    tmp = tempfile.mkdtemp(prefix="initscope_gddrift_")

    def initscope_run(steps):
        out = os.path.join(tmp, f"s{steps}")
        os.makedirs(out, exist_ok=True)
        cmd = [args.initscope, "train", "--dataset", "mnist", "--data-dir", args.data_dir,
               "--db", os.path.join(out, "r.db"), "--width", str(args.width), "--m", str(args.m),
               "--subset", "first", "--shuffle", "off", "--loss", args.loss, "--activation", args.activation,
               "--optimizer", "gd", "--lr", repr(args.lr), "--momentum", repr(args.momentum),
               "--max-epochs", str(steps), "--max-steps", str(steps), "--save-weights", out, "--json"]
        subprocess.run(cmd, check=True, capture_output=True, text=True)
        return out

    ours = {}
    for s in at:
        d = initscope_run(s)
        ours[s] = {k: v.double() for k, v in read_safetensors(os.path.join(d, "final.safetensors"))[0].items()}
    # The first run's folder holds the init too (training it again would be refused: train does
    # not repeat a completed config and seed without --again).
    init, meta = read_safetensors(os.path.join(tmp, f"s{at[0]}", "init.safetensors"))
    config = json.loads(meta["config"])

    torch.set_num_threads(1)
    d = os.path.join(args.data_dir, "mnist")
    x32 = torch.from_numpy(read_idx(os.path.join(d, "train-images-idx3-ubyte"))[: args.m].reshape(args.m, -1)
                           .astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[: args.m].astype(np.int64))

    def loss_fn(out, target, reduction):
        if args.loss == "ce":
            return torch.nn.functional.cross_entropy(out, target, reduction=reduction)
        t = torch.nn.functional.one_hot(target, 10).to(out.dtype)
        per_row = ((out - t) ** 2).mean(dim=1)
        return per_row.mean() if reduction == "mean" else per_row.sum()

    def model_at(state, dtype):
        model = mlp_for(init, config)
        model.load_state_dict({k: v.float() for k, v in state.items()} if dtype == torch.float32 else state,
                              strict=False)
        model.to(dtype)
        if dtype == torch.float64:  # load_state_dict copied float32 values; put the doubles back
            with torch.no_grad():
                for k, p in model.named_parameters():
                    p.copy_(state[k])
        return model

    def train(dtype, mode, start):
        """States (float64 copies) after each step 0..steps."""
        model = model_at(start, dtype)
        x = x32.to(dtype)
        params = list(model.parameters())
        opt = torch.optim.SGD(params, lr=args.lr, momentum=args.momentum)
        states = [{k: v.detach().double().clone() for k, v in model.state_dict().items()}]
        for _ in range(args.steps):
            opt.zero_grad()
            if mode == "full":
                loss_fn(model(x), y, "mean").backward()
            else:  # initscope's gradient path: float sums per chunk, a double sum, one division
                total = [torch.zeros_like(p, dtype=torch.float64) for p in params]
                for s0 in range(0, args.m, CHUNK):
                    for p in params:
                        p.grad = None
                    loss_fn(model(x[s0 : s0 + CHUNK]), y[s0 : s0 + CHUNK], "sum").backward()
                    for t, p in zip(total, params):
                        t += p.grad.double()
                for t, p in zip(total, params):
                    p.grad = (t / args.m).to(dtype)
            opt.step()
            states.append({k: v.detach().double().clone() for k, v in model.state_dict().items()})
        return states

    def pre_activations(state):
        """Hidden layers' pre-activations on the m rows, in float64, as one flat tensor per layer."""
        model = model_at(state, torch.float64)
        h, out = x32.double(), []
        with torch.no_grad():
            for i, layer in enumerate(model.layers[:-1]):
                z = layer(h)
                out.append(z)
                h = torch.relu(z) if args.activation == "relu" else torch.tanh(z)
        return out

    def drift(a, b):
        return max(((a[k] - b[k]).abs().max() / b[k].abs().max()).item() for k in b)

    def flips(za, zb):
        return sum(int(((a > 0) != (b > 0)).sum()) for a, b in zip(za, zb))

    start = {k: v.double() for k, v in init.items()}
    ref = train(torch.float64, "full", start)
    runs = {"initscope": {s: ours[s] for s in at},
            "pytorch": train(torch.float32, "full", start),
            "chunked": train(torch.float32, "chunked", start)}
    gen = torch.Generator().manual_seed(7)
    for k in range(1, args.nudges + 1):
        nudged = {}
        for name, v in init.items():
            f = v.float().numpy()
            sign = (torch.randint(0, 2, v.shape, generator=gen) * 2 - 1).numpy() > 0
            moved = np.where(sign, np.nextafter(f, np.float32(np.inf)), np.nextafter(f, np.float32(-np.inf)))
            nudged[name] = torch.from_numpy(moved.astype(np.float32)).double()
        runs[f"nudged-{k}"] = train(torch.float32, "full", nudged)

    units = args.m * args.width * (len(ref[0]) // 2 - 1)
    print(f"gd, {args.activation}, {args.loss}, m {args.m}, H {args.width}, lr {args.lr}, momentum {args.momentum}: "
          f"{units} hidden pre-activations per step")
    print("weights: max over tensors of max|a-b|/max|b| against float64; "
          "flips: pre-activations on the other side of the kink than in float64")
    names = list(runs)
    print(f"{'step':>4} {'ref crossings':>13} {'ref near kink':>13}  " + "  ".join(f"{n:>20}" for n in names))
    zs = {s: pre_activations(ref[s]) for s in range(args.steps + 1)}
    for s in at:
        crossing = flips(zs[s], zs[s - 1])
        near = sum(int((z.abs() < 1e-6 * z.abs().max()).sum()) for z in zs[s])
        cells = []
        for n in names:
            state = runs[n][s]
            cells.append(f"{drift(state, ref[s]):9.1e} {flips(pre_activations(state), zs[s]):>6} fl")
        print(f"{s:>4} {crossing:>13} {near:>13}  " + "  ".join(f"{c:>20}" for c in cells))
    per_step = [flips(zs[s], zs[s - 1]) for s in range(1, args.steps + 1)]
    print(f"float64 kink crossings per step, steps 1..{args.steps}: {per_step}")
    # The first pre-activations initscope puts on the other side of the kink: how close float64
    # has them to it, relative to the largest |z| of their layer.
    for s in at:
        za = pre_activations(runs["initscope"][s])
        found = []
        for k, (a, b) in enumerate(zip(za, zs[s])):
            for row, unit in ((a > 0) != (b > 0)).nonzero().tolist():
                found.append((k + 1, row, unit, b[row, unit].item(), a[row, unit].item(), b.abs().max().item()))
        if found:
            print(f"initscope's first pre-activations across the kink from float64, after step {s}:")
            for k, row, unit, z64, z32, zmax in found[:10]:
                print(f"  layer {k} row {row} unit {unit}: float64 z = {z64:+.3e}, initscope z = {z32:+.3e} "
                      f"(|z| / max|z| of the layer = {abs(z64) / zmax:.1e})")
            break
    closest = min(min((z.abs().min() / z.abs().max()).item() for z in zs[s]) for s in range(args.steps + 1))
    print(f"float64's closest pre-activation to the kink over steps 0..{args.steps}: {closest:.1e} of its layer's max |z|")
    final = {n: drift(runs[n][at[-1]], ref[at[-1]]) for n in names}
    nudged = [v for n, v in final.items() if n.startswith("nudged")]
    if nudged:
        print(f"one-ulp nudges of the init: {sum(v > 1e-5 for v in nudged)} of {len(nudged)} end more than 1e-5 "
              f"from float64 after step {at[-1]} (largest {max(nudged):.1e})")
    print(f"after step {at[-1]}: " + ", ".join(f"{n} {v:.1e}" for n, v in final.items() if not n.startswith("nudged")))


if __name__ == "__main__":
    main()
