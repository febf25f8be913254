#!/usr/bin/python3
"""The PyTorch reference for bench/run.sh: time one training step of the same network, data,
batch and optimizer as initscope, in steady state, and print one JSON line per width.

Network 784-H-H-H-H-10 (nn.Linear + ReLU, Xavier-normal weights, zero biases), softmax
cross-entropy, SGD lr 0.1 momentum 0.9, batches of 64 drawn from a per-epoch shuffle of the
first m MNIST training digits. A step is what initscope's step is: gather the batch (index_select),
forward, loss, backward, optimizer step. Timing: `warmup` steps, then `repeats` runs of n steps
each (n chosen so that a run lasts about `seconds`); the best run's mean is the step time, so
interference from the other core or other processes can only be filtered out, never added in.
Process start-up, data loading and model construction are never timed.

  bench/pytorch_reference.py --widths 64,256,1024,4096 --threads 1,2 [--data-dir DIR] [--m 4096]
  bench/pytorch_reference.py --optimizer adam --batch 4096 --widths 256 (torch.optim.Adam, lr 1e-3)
  bench/pytorch_reference.py --optimizer gd --m 16384 --widths 256 (one step on all m rows: the
      mean loss's gradient, then SGD momentum 0.9; the step initscope's --optimizer gd takes)
  bench/pytorch_reference.py --siren [--threads 1,2] (issue 10's SIREN-shaped steps: one full-batch
      gd step and one Adam step on a batch of 4096; see siren_steps)
  bench/pytorch_reference.py --sweep experiments/nk17-fig1-quick.toml [--jobs N]
  bench/pytorch_reference.py --fixed-cost --widths 64 --m 1024 (one --sweep run without steps)

--sweep trains every run of an initscope sweep file the way `initscope sweep` does (each run
until its stopping criterion, checked on the whole training set after every epoch, or its
max_epochs; one single-threaded process per core) and prints the wall time. Supported keys:
dataset (mnist), m, subset, noise, width, depth, lr, momentum, batch, stop, max_epochs, seed;
others are ignored. Subsets and label noise are drawn with torch's generator, so the runs are
the same experiment as initscope's, not the same bits.

Needs Debian's python3-torch (use /usr/bin/python3). The caller sets OPENBLAS_CORETYPE: Debian's
OpenBLAS otherwise may run its AVX2 kernels on AVX-512 CPUs (bench/run.sh sets SKYLAKEX).
"""
import argparse
import itertools
import json
import multiprocessing
import os
import resource
import sys
import time

import numpy as np
import torch


def read_idx(path):
    with open(path, "rb") as f:
        blob = f.read()
    ndim = blob[3]
    dims = [int.from_bytes(blob[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(blob, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist(data_dir, m):
    d = os.path.join(data_dir, "mnist")
    x = read_idx(os.path.join(d, "train-images-idx3-ubyte"))[:m].reshape(m, -1).astype(np.float32) / 255.0
    y = read_idx(os.path.join(d, "train-labels-idx1-ubyte"))[:m].astype(np.int64)
    return torch.from_numpy(x), torch.from_numpy(y)


def make_model(width, depth=5, inputs=784, outputs=10):
    sizes = [inputs] + [width] * (depth - 1) + [outputs]
    layers = []
    for i in range(depth):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        torch.nn.init.xavier_normal_(lin.weight)
        torch.nn.init.zeros_(lin.bias)
        layers.append(lin)
        if i < depth - 1:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def flops_per_step(width, batch, depth=5, inputs=784, outputs=10):
    """2·B·Σ in·out forward + 4·B·Σ in·out backward − 2·B·in·H (no input gradient at layer 1)."""
    sizes = [inputs] + [width] * (depth - 1) + [outputs]
    macs = sum(sizes[i] * sizes[i + 1] for i in range(depth))
    return 6.0 * batch * macs - 2.0 * batch * inputs * width


def time_width(x, y, width, threads, batch, seconds, repeats, warmup, seed, optimizer="sgd"):
    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    model = make_model(width)
    if optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    else:
        opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    n = x.shape[0]
    state = {"order": torch.randperm(n, generator=gen), "pos": 0}

    def full_step():
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def step():
        if optimizer == "gd":
            return full_step()
        if state["pos"] + batch > n:
            state["order"] = torch.randperm(n, generator=gen)
            state["pos"] = 0
        idx = state["order"][state["pos"] : state["pos"] + batch]
        state["pos"] += batch
        xb = x.index_select(0, idx)
        yb = y.index_select(0, idx)
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    for _ in range(warmup):
        step()
    t0 = time.perf_counter()
    step()
    one = time.perf_counter() - t0
    steps = max(2, int(seconds / max(one, 1e-6)))
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(steps):
            loss = step()
        loss.item()  # synchronizes nothing on the CPU, but keeps the last loss alive
        best = min(best, (time.perf_counter() - t0) / steps)
    return best, steps


# ---- the SIREN-shaped steps (issue 10) -------------------------------------------------------

class Sine(torch.nn.Module):
    """SIREN's layer nonlinearity on a linear output z: sin(omega0 * z), omega0 on the bias too."""

    def __init__(self, omega0):
        super().__init__()
        self.omega0 = omega0

    def forward(self, z):
        return torch.sin(self.omega0 * z)


def siren_model(width=256, hidden_layers=3, omega0=30.0):
    """2 -> width x hidden_layers -> 1 with sine, the official SIREN init (first layer U(+-1/n),
    later U(+-sqrt(6/n)/omega0), biases left at nn.Linear's)."""
    sizes = [2] + [width] * hidden_layers + [1]
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        bound = 1.0 / sizes[i] if i == 0 else (6.0 / sizes[i]) ** 0.5 / omega0
        with torch.no_grad():
            lin.weight.uniform_(-bound, bound)
        layers.append(lin)
        if i < len(sizes) - 2:
            layers.append(Sine(omega0))
    return torch.nn.Sequential(*layers)


def siren_steps(threads_list, seconds, repeats, seed):
    """bench/step_bench --mode siren in PyTorch: the 128 x 128 grid of [-1, 1]^2, targets +-1 by
    the sign of sin(pi x) sin(pi y), MSE on one output; one full-batch gd step (SGD momentum 0.9
    on all 16384 points) and one Adam step on a batch of 4096 from a per-epoch shuffle."""
    side = 128
    g = torch.linspace(-1.0, 1.0, side, dtype=torch.float64)
    u, v = torch.meshgrid(g, g, indexing="ij")
    x = torch.stack([u.reshape(-1), v.reshape(-1)], dim=1).float()
    t = torch.where(torch.sin(torch.pi * u) * torch.sin(torch.pi * v) > 0, 1.0, -1.0).reshape(-1, 1).float()
    n = x.shape[0]
    sizes = [2, 256, 256, 256, 1]
    macs = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    for kind, batch in (("siren_gd", n), ("siren_adam", 4096)):
        per_thread = {}
        for threads in threads_list:
            torch.set_num_threads(threads)
            torch.manual_seed(seed)
            model = siren_model()
            if kind == "siren_adam":
                opt = torch.optim.Adam(model.parameters(), lr=1e-4)
            else:
                opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
            gen = torch.Generator().manual_seed(seed)
            state = {"order": torch.randperm(n, generator=gen), "pos": 0}

            def step():
                if batch == n:
                    xb, tb = x, t
                else:
                    if state["pos"] + batch > n:
                        state["order"] = torch.randperm(n, generator=gen)
                        state["pos"] = 0
                    idx = state["order"][state["pos"] : state["pos"] + batch]
                    state["pos"] += batch
                    xb, tb = x.index_select(0, idx), t.index_select(0, idx)
                opt.zero_grad(set_to_none=True)
                loss = torch.nn.functional.mse_loss(model(xb), tb)
                loss.backward()
                opt.step()
                return loss

            for _ in range(3):
                step()
            t0 = time.perf_counter()
            step()
            steps = max(2, int(seconds / max(time.perf_counter() - t0, 1e-6)))
            best = float("inf")
            for _ in range(repeats):
                t0 = time.perf_counter()
                for _ in range(steps):
                    loss = step()
                loss.item()
                best = min(best, (time.perf_counter() - t0) / steps)
            per_thread[threads] = best
        best_threads = min(per_thread, key=per_thread.get)
        row = {"kind": kind, "engine": "pytorch", "width": 256, "seconds_per_step": per_thread[best_threads],
               "threads": best_threads, "per_thread": {str(k): v for k, v in per_thread.items()},
               "flops_per_step": 6.0 * batch * macs - 2.0 * batch * 2 * 256, "torch": torch.__version__}
        row.update({"m": n} if kind == "siren_gd" else {"batch": batch})
        print(json.dumps(row), flush=True)


# ---- the sweep reference ---------------------------------------------------------------------

def expand_sweep(path):
    import tomllib  # Python ≥ 3.11 (Debian 12)
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    base = dict(doc.get("base", {}))

    def product(fixed, grid):
        keys = list(grid)
        for values in itertools.product(*(grid[k] for k in keys)) if keys else [()]:
            run = dict(fixed)
            run.update(zip(keys, values))
            yield run

    runs = list(product(base, doc.get("grid", {})))
    for extra in doc.get("runs", []):
        fixed = dict(base)
        fixed.update({k: v for k, v in extra.items() if k != "grid"})
        runs.extend(product(fixed, extra.get("grid", {})))
    unique = []
    for r in runs:
        if r not in unique:
            unique.append(r)
    return unique


def parse_stop(text):
    if text.startswith("margin:"):
        _, gamma, q = text.split(":")
        return ("margin", float(gamma), float(q))
    if text.startswith("loss<="):
        return ("loss", float(text[len("loss<="):]), 0.0)
    if text.startswith("train_error<="):
        return ("train_error", float(text[len("train_error<="):]), 0.0)
    raise ValueError(f"stop criterion {text!r} is not supported by the reference")


def train_until_stop(args):
    cfg, data_dir = args
    torch.set_num_threads(1)
    seed = int(cfg.get("seed", 1))
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    m = int(cfg.get("m", 0)) or 60000
    x_all, y_all = load_mnist(data_dir, 60000)
    rows = torch.arange(m) if cfg.get("subset", "random") == "first" else torch.randperm(60000, generator=gen)[:m]
    x, y = x_all[rows].contiguous(), y_all[rows].clone()
    noise = float(cfg.get("noise", 0.0))
    if noise > 0:
        k = int(round(noise * m))
        idx = torch.randperm(m, generator=gen)[:k]
        y[idx] = torch.randint(0, 10, (k,), generator=gen)
    model = make_model(int(cfg.get("width", 256)), int(cfg.get("depth", 5)))
    opt = torch.optim.SGD(model.parameters(), lr=float(cfg.get("lr", 0.01)), momentum=float(cfg.get("momentum", 0.9)))
    loss_fn = torch.nn.CrossEntropyLoss()
    stops = cfg.get("stop", [])
    stops = [parse_stop(t) for t in ([stops] if isinstance(stops, str) else stops)]
    batch, max_epochs = int(cfg.get("batch", 64)), int(cfg.get("max_epochs", 1000))

    def met():
        with torch.no_grad():
            loss_sum, wrong, margins = 0.0, 0, []
            for s in range(0, m, 1024):
                f = model(x[s : s + 1024])
                t = y[s : s + 1024]
                loss_sum += float(torch.nn.functional.cross_entropy(f, t, reduction="sum"))
                wrong += int((f.argmax(1) != t).sum())
                fy = f.gather(1, t[:, None])[:, 0]
                other = f.scatter(1, t[:, None], float("-inf")).max(1).values
                margins.append(fy - other)
            margins = torch.cat(margins)
        for kind, v, q in stops:
            if kind == "margin" and float((margins >= v).float().mean()) >= q:
                return True
            if kind == "loss" and loss_sum / m <= v:
                return True
            if kind == "train_error" and wrong / m <= v:
                return True
        return False

    epochs, t_train, t_eval = 0, 0.0, 0.0
    while True:
        t = time.perf_counter()
        done = met()
        t_eval += time.perf_counter() - t
        if done or epochs >= max_epochs:
            break
        epochs += 1
        t = time.perf_counter()
        order = torch.randperm(m, generator=gen)
        for s in range(0, m, batch):
            idx = order[s : s + batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[idx]), y[idx]).backward()
            opt.step()
        t_train += time.perf_counter() - t
    return epochs, t_train, t_eval


def fixed_cost(width, m, data_dir, seed=1):
    """One run of --sweep without its steps (bench/fixed_cost.py): start-up, the training subset
    of the loaded set, the network and optimizer, then the evaluations a run ends with (training
    and test sets). Prints when it was ready for its first step and when its last step would
    have ended (the same instant: no steps), on the clock bench/fixed_cost.py reads."""
    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    x_all, y_all = load_mnist(data_dir, 60000)
    rows = torch.randperm(60000, generator=gen)[:m]
    x, y = x_all[rows].contiguous(), y_all[rows].clone()
    d = os.path.join(data_dir, "mnist")
    x_test = torch.from_numpy(read_idx(os.path.join(d, "t10k-images-idx3-ubyte")).reshape(10000, -1).astype(np.float32) / 255.0)
    y_test = torch.from_numpy(read_idx(os.path.join(d, "t10k-labels-idx1-ubyte")).astype(np.int64))
    model = make_model(width)
    torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    first_step = time.monotonic()
    last_step = time.monotonic()
    with torch.no_grad():
        for xs, ys in ((x, y), (x_test, y_test)):
            for s in range(0, xs.shape[0], 1024):
                f = model(xs[s : s + 1024])
                torch.nn.functional.cross_entropy(f, ys[s : s + 1024], reduction="sum")
    print(json.dumps({"first_step": first_step, "last_step": last_step}), flush=True)


def run_sweep(path, jobs, data_dir):
    runs = expand_sweep(path)
    t0 = time.perf_counter()
    with multiprocessing.Pool(jobs) as pool:
        results = pool.map(train_until_stop, [(r, data_dir) for r in runs], chunksize=1)
    seconds = time.perf_counter() - t0
    print(json.dumps({"kind": "sweep", "engine": "pytorch", "seconds": seconds, "runs": len(runs),
                      "epochs": sum(r[0] for r in results), "train_seconds": sum(r[1] for r in results),
                      "eval_seconds": sum(r[2] for r in results), "jobs": jobs}), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="64,256,1024,4096")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--m", type=int, default=4096)
    ap.add_argument("--seconds", type=float, default=1.0, help="length of one timed run")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    ap.add_argument("--sweep", help="time a whole sweep file instead of single steps")
    ap.add_argument("--fixed-cost", action="store_true",
                    help="one sweep run's work around its steps, no steps (bench/fixed_cost.py)")
    ap.add_argument("--siren", action="store_true", help="time issue 10's SIREN-shaped gd and Adam steps")
    ap.add_argument("--jobs", type=int, default=os.cpu_count(), help="sweep runs at once")
    ap.add_argument("--optimizer", default="sgd", choices=["sgd", "adam", "gd"],
                    help="sgd and adam: minibatches of --batch; gd: one step on all m rows")
    args = ap.parse_args()
    if args.sweep:
        run_sweep(args.sweep, args.jobs, args.data_dir)
        return 0
    if args.fixed_cost:
        fixed_cost(int(args.widths.split(",")[0]), args.m, args.data_dir)
        return 0
    if args.siren:
        siren_steps([int(t) for t in args.threads.split(",")], args.seconds, args.repeats, args.seed)
        return 0

    x, y = load_mnist(args.data_dir, max(args.m, args.batch))
    batch = x.shape[0] if args.optimizer == "gd" else args.batch
    for width in [int(w) for w in args.widths.split(",")]:
        per_thread = {}
        for threads in [int(t) for t in args.threads.split(",")]:
            sec, steps = time_width(x, y, width, threads, batch, args.seconds, args.repeats,
                                    1 if args.optimizer == "gd" else args.warmup, args.seed, args.optimizer)
            per_thread[threads] = sec
        best_threads = min(per_thread, key=per_thread.get)
        print(json.dumps({
            "kind": {"sgd": "step", "adam": "adam", "gd": "gd"}[args.optimizer],
            "batch": batch,
            "engine": "pytorch",
            "width": width,
            "seconds_per_step": per_thread[best_threads],
            "threads": best_threads,
            "per_thread": {str(k): v for k, v in per_thread.items()},
            "flops_per_step": flops_per_step(width, batch),
            "torch": torch.__version__,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
