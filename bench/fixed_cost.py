#!/usr/bin/python3
"""bench/run.sh's per-run fixed cost: what one run of a sweep costs besides its steps, in
initscope and in PyTorch, measured from outside the process, the two engines alternating.

A run that trains nothing (0 steps, H and m as given) is timed from its start to its exit, so its
wall time is the whole fixed cost: start-up, data, the network, the evaluations and measures a
run makes around its steps, storing, exit. Per engine it prints one JSON line with the median
of `repeats` runs of: wall seconds, peak RSS (the kernel's ru_maxrss of the process) and peak
private memory (Private_Clean + Private_Dirty of /proc/PID/smaps_rollup, sampled every 2 ms)
and its anonymous part (Anonymous: the memory the process owns). The difference is file pages
mapped by this process alone, such as the dataset cache's: the kernel calls them private while
no other process maps them, but they are the page cache's, shared by every run of a sweep.
initscope's run is `initscope train --max-steps 0` on its own database; PyTorch's is
pytorch_reference.py --fixed-cost, which does what one run of its --sweep does around the steps
(import torch, load MNIST, draw the subset, build the model, evaluate the training and test
sets), printing when it is ready for its first step, so each engine's cost is also split into
start-to-first-step and last-step-to-exit (initscope writes the same two marks to the file named
by INITSCOPE_BENCH_MARKS).

  bench/fixed_cost.py INITSCOPE DATA_DIR [--width 64] [--m 1024] [--repeats 5]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def memory_kb(pid):
    """(private, anonymous) KB now: Private_Clean + Private_Dirty, and Anonymous."""
    private = anonymous = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith(("Private_Clean", "Private_Dirty")):
                    private += int(line.split()[1])
                elif line.startswith("Anonymous:"):
                    anonymous += int(line.split()[1])
    except (OSError, ValueError):
        pass
    return private, anonymous


def run_once(cmd):
    """wall seconds, peak RSS MB, peak private and anonymous MB, stdout, the launch time."""
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    peak_private = peak_anonymous = 0
    while True:
        pid, status, ru = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        private, anonymous = memory_kb(p.pid)
        peak_private, peak_anonymous = max(peak_private, private), max(peak_anonymous, anonymous)
        time.sleep(0.002)
    wall = time.monotonic() - t0
    out = p.stdout.read().decode()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench/fixed_cost.py: {' '.join(cmd)} failed with status {status}")
    return wall, ru.ru_maxrss / 1024.0, peak_private / 1024.0, peak_anonymous / 1024.0, out, t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("initscope")
    ap.add_argument("data_dir")
    ap.add_argument("--width", type=int, default=64)
    ap.add_argument("--m", type=int, default=1024)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="initscope-fixed-")
    # --again: every repeat trains the same config into one database (train refuses that otherwise).
    ours = [args.initscope, "train", "--width", str(args.width), "--m", str(args.m), "--max-steps", "0", "--again",
            "--data-dir", args.data_dir, "--db", os.path.join(tmp, "runs.db")]
    theirs = [sys.executable, os.path.join(HERE, "pytorch_reference.py"), "--fixed-cost", "--widths", str(args.width),
              "--m", str(args.m), "--data-dir", args.data_dir]
    subprocess.run(ours, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)  # builds the cache once
    marks_file = os.path.join(tmp, "marks")
    os.environ["INITSCOPE_BENCH_MARKS"] = marks_file  # inherited by initscope's runs
    samples = {"initscope": [], "pytorch": []}
    for _ in range(args.repeats):  # alternating, so a busy spell hits both
        for engine, cmd in (("initscope", ours), ("pytorch", theirs)):
            if os.path.exists(marks_file):
                os.remove(marks_file)
            wall, rss, private, anonymous, out, t0 = run_once(cmd)
            s = {"wall": wall, "private": private, "anonymous": anonymous, "rss": rss}
            if engine == "pytorch":
                marks = json.loads(out.strip().splitlines()[-1])
            else:  # INITSCOPE_BENCH_MARKS (src/train/trainer.cpp): "first_step T", "last_step T"
                with open(marks_file) as f:
                    marks = {k: float(v) for k, v in (line.split() for line in f)}
            s["start_to_first_step"] = marks["first_step"] - t0
            s["last_step_to_exit"] = wall - (marks["last_step"] - t0)
            samples[engine].append(s)
    for engine, runs in samples.items():
        med = lambda k: statistics.median(r[k] for r in runs) if k in runs[0] else None
        print(json.dumps({"kind": "fixed_cost", "engine": engine, "width": args.width, "m": args.m,
                          "repeats": args.repeats, "wall_seconds": med("wall"), "peak_rss_mb": med("rss"),
                          "peak_private_mb": med("private"), "peak_anonymous_mb": med("anonymous"),
                          "start_to_first_step": med("start_to_first_step"),
                          "last_step_to_exit": med("last_step_to_exit"),
                          "load": open("/proc/loadavg").read().split()[0]}), flush=True)


if __name__ == "__main__":
    main()
