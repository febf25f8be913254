#!/usr/bin/python3
"""Formats the JSON lines bench/run.sh collected (step_bench and pytorch_reference.py) as the
benchmark report: per width, time per step, GFLOP/s, speedup over PyTorch and fraction of the
machine's sgemm peak; then the phase profile of one step, the costs around the steps, and the
sweep comparison if there was one.

  bench/report.py RESULTS.jsonl
"""
import json
import math
import sys


def main(path):
    recs = [json.loads(line) for line in open(path) if line.strip().startswith("{")]
    peaks = [r for r in recs if r["kind"] == "peak"]
    def best(engine, threads=None):  # per width, the fastest of the rounds (and thread counts)
        out = {}
        for r in recs:
            if r["kind"] == "step" and r.get("engine") == engine and threads in (None, r.get("threads")):
                if r["width"] not in out or r["seconds_per_step"] < out[r["width"]]["seconds_per_step"]:
                    out[r["width"]] = r
        return out

    ours, ours1, torch = best("initscope"), best("initscope", 1), best("pytorch")
    our_threads = sorted({r["threads"] for r in recs if r["kind"] == "step" and r.get("engine") == "initscope"})
    rounds = sum(1 for r in recs if r["kind"] == "step" and r.get("engine") == "initscope") // max(len(ours) * len(our_threads), 1)
    peak = max(p["gflops"] for p in peaks) if peaks else float("nan")
    fma = max(p.get("fma_gflops", float("nan")) for p in peaks) if peaks else float("nan")
    m0 = next(iter(ours.values()), peaks[0] if peaks else {})

    print("One training step of 784-H-H-H-H-10, batch 64, SGD momentum 0.9, cross-entropy, MNIST")
    print(f"initscope: kernels {m0.get('kernel_isa', '?')}, OpenBLAS core {m0.get('blas_core_selection', '?')}, best of threads {','.join(map(str, our_threads))}")
    if torch:
        t0 = next(iter(torch.values()))
        print(f"PyTorch {t0['torch']}: best of threads {','.join(t0['per_thread'])} (OPENBLAS_CORETYPE=SKYLAKEX)")
    if peaks:
        best = max(peaks, key=lambda p: p["gflops"])
        print(f"sgemm peak: {peak:.0f} GFLOP/s, OpenBLAS 1 thread, best of {len(peaks)} measurements of "
              f"64x4096x4096 NN/NT ({best['gflops_64_nn']:.0f}/{best['gflops_64_nt']:.0f}) and "
              f"1024x4096x4096 NT ({best['gflops_1024_nt']:.0f}); FMA ceiling (registers only): {fma:.0f} GFLOP/s")
    print("FLOPs per step: 2·B·Σin·out forward + 4·B·Σin·out backward − 2·B·784·H (no input gradient)")
    print(f"Steady state, best of {rounds} alternating rounds per engine (each: warm-up, then the best of 3 timed runs)")
    print()
    print("%sgemm and %FMA: initscope on one thread against the one-thread sgemm peak and FMA ceiling")
    print()
    print(f"{'H':>6} | {'1-thread ms':>11} {'GFLOP/s':>8} {'%sgemm':>6} {'%FMA':>5} | {'initscope ms':>12} {'thr':>3} {'GFLOP/s':>8} | {'PyTorch ms':>10} {'thr':>3} {'GFLOP/s':>8} | {'speedup':>7}")
    print("-" * 112)
    speedups = []
    for h in sorted(ours):
        o, o1 = ours[h], ours1.get(h, ours[h])
        g1 = o1["flops_per_step"] / o1["seconds_per_step"] * 1e-9
        g = o["flops_per_step"] / o["seconds_per_step"] * 1e-9
        line = (f"{h:>6} | {o1['seconds_per_step'] * 1e3:>11.3f} {g1:>8.1f} {100 * g1 / peak:>5.0f}% {100 * g1 / fma:>4.0f}% |"
                f" {o['seconds_per_step'] * 1e3:>12.3f} {o['threads']:>3} {g:>8.1f} |")
        if h in torch:
            t = torch[h]
            tg = t["flops_per_step"] / t["seconds_per_step"] * 1e-9
            sp = t["seconds_per_step"] / o["seconds_per_step"]
            speedups.append(sp)
            line += f" {t['seconds_per_step'] * 1e3:>10.3f} {t['threads']:>3} {tg:>8.1f} | {sp:>6.2f}x"
        print(line)
    if speedups:
        geo = math.exp(sum(math.log(s) for s in speedups) / len(speedups))
        print(f"geometric-mean speedup {geo:.2f}x, smallest {min(speedups):.2f}x (targets: >= 4x, >= 2x at every width)")
    big = [h for h in ours1 if h >= 1024]
    if big:
        fr = min(ours1[h]["flops_per_step"] / ours1[h]["seconds_per_step"] * 1e-9 / peak for h in big)
        print(f"fraction of the one-thread sgemm peak at H >= 1024, one thread: >= {100 * fr:.0f}% (target: >= 70%); "
              f"of the FMA ceiling: >= {100 * fr * peak / fma:.0f}%")
    runs_rss = {r["width"]: r["peak_rss_mb"] for r in recs if r["kind"] == "rss"}
    for h in sorted(ours):
        if "peak_rss_mb" in ours[h]:
            o = ours[h]
            t = torch.get(h, {})
            run = f"initscope train process {runs_rss[h]:.0f} MB, " if h in runs_rss else ""
            print(f"peak RSS H={h}: {run}params+init+momentum {o['params_init_momentum_mb']:.0f} MB"
                  + (f"; PyTorch process {t['peak_rss_mb']:.0f} MB" if t else "")
                  + f"; step_bench process {o['peak_rss_mb']:.0f} MB (keeps raw MNIST loaded for all widths)")

    for p in (r for r in recs if r["kind"] == "profile"):
        print()
        print(f"One step at H={p['width']}, phase by phase ({p['steps']} steps; µs per step):")
        total = p["seconds_per_step"]
        for name, sec in p["phases"].items():
            print(f"  {name:32s} {sec * 1e6:10.1f} µs {100 * sec / total:5.1f}%")
        print(f"  {'total':32s} {total * 1e6:10.1f} µs")
        if "lockstep_shareable_seconds" in p:
            sh = p["lockstep_shareable_seconds"]
            print(f"  shareable by models trained in lock-step (gather + input transpose): {sh * 1e6:.1f} µs, "
                  f"{100 * sh / total:.1f}% of the step")

    costs = [r for r in recs if r["kind"] == "costs"]
    if costs:
        print()
        print(f"Costs around the steps, per epoch at m={costs[0]['m']} (ms), and per run:")
        print(f"{'H':>6} | {'train':>8} {'full chk':>8} {'full/train':>10} | {'gather':>7} {'shuffle':>7} | {'final measures':>14}")
        for c in costs:
            print(f"{c['width']:>6} | {c['epoch_train_seconds'] * 1e3:>8.2f} {c['epoch_eval_seconds'] * 1e3:>8.2f} "
                  f"{100 * c['eval_fraction_of_train']:>9.0f}% | {c['epoch_gather_seconds'] * 1e3:>7.3f} "
                  f"{c['epoch_shuffle_seconds'] * 1e3:>7.3f} | {c['final_measures_seconds'] * 1e3:>11.1f} ms")
        print("  full chk = the stopping check over the whole training set (--train-eval full): every row forward")
        print("  + loss/error/margins. It does 2·Σ of a step's 6·Σ−2·784·H FLOPs per row, i.e. 34–45% of an")
        print("  epoch's arithmetic. The default check (--train-eval early) stops as soon as the criterion is")
        print("  certainly unmet, likeliest failures first; its cost in whole runs is under the sweep.")
        print("  final measures = norms and Lanczos spectral norms (src/measure), once per run.")

    fixed = {r["engine"]: r for r in recs if r["kind"] == "fixed_cost"}
    if fixed:
        print()
        f0 = next(iter(fixed.values()))
        print(f"Per-run fixed cost: a run of 0 steps (H={f0['width']}, m={f0['m']}), start to exit, median of "
              f"{f0['repeats']} (load {f0['load']}):")
        for e, r in fixed.items():
            split = ""
            if r.get("start_to_first_step") is not None:
                split = (f" (start to first step {r['start_to_first_step']:.3f} s, last step to exit "
                         f"{r['last_step_to_exit']:.3f} s)")
            print(f"  {e:10s} {r['wall_seconds']:7.3f} s{split}, peak RSS {r['peak_rss_mb']:.0f} MB, "
                  f"private {r['peak_private_mb']:.0f} MB of which anonymous {r['peak_anonymous_mb']:.0f} MB")
        print("  (private minus anonymous = file pages only this process maps: for initscope, the dataset")
        print("   cache's, which every run of a sweep shares through the page cache)")
        if "initscope" in fixed and "pytorch" in fixed:
            print(f"  ratio PyTorch / initscope: {fixed['pytorch']['wall_seconds'] / fixed['initscope']['wall_seconds']:.1f}x")

    for r in recs:
        if r["kind"] == "sweep_skipped":
            print(f"\nQuick Figure-1 sweep: skipped: {r['reason']}")
    sweeps = {r["engine"]: r for r in recs if r["kind"] == "sweep"}
    if sweeps:
        print()
        print("Quick Figure-1 sweep (experiments/nk17-fig1-quick.toml), end to end, both engines filling every core:")
        for e, r in sweeps.items():
            parts = [f"{r['seconds']:8.1f} s wall", f"{r.get('runs', '?')} runs", f"{r.get('epochs', float('nan')):.0f} epochs"]
            if r.get("train_seconds"):
                parts.append(f"train {r['train_seconds']:.0f} s + eval {r['eval_seconds']:.0f} s (CPU-seconds over runs)")
                parts.append(f"{1e3 * (r['train_seconds'] + r['eval_seconds']) / r['epochs']:.1f} ms per epoch")
            print(f"  {e:10s} " + ", ".join(parts))
        if sweeps.get("initscope", {}).get("placement"):
            print(f"  initscope's {sweeps['initscope']['placement']}")
        if sweeps.get("pytorch", {}).get("jobs"):
            print(f"  PyTorch: {sweeps['pytorch']['jobs']} single-threaded runs at once (multiprocessing.Pool)")
        by_width = sweeps.get("initscope", {}).get("by_width")
        if by_width:
            print("  initscope's stopping checks in these runs (--train-eval early), CPU-seconds by width:")
            print(f"  {'H':>6} {'runs':>5} {'train s':>9} {'check s':>9} {'check/train':>11} {'rows checked':>13}")
            for w in by_width:
                print(f"  {w['width']:>6} {w['runs']:>5} {w['train_seconds']:>9.1f} {w['eval_seconds']:>9.2f} "
                      f"{100 * w['eval_seconds'] / w['train_seconds']:>10.1f}% {100 * (w['check_rows_fraction'] or 1):>12.1f}%")
            print("  (rows checked: the share of the training set evaluated per check, averaged over runs;")
            print("   the PyTorch reference evaluates the whole set every epoch, as a plain script does)")
        if "initscope" in sweeps and "pytorch" in sweeps:
            i, p = sweeps["initscope"], sweeps["pytorch"]
            line = f"  speedup: wall {p['seconds'] / i['seconds']:.2f}x"
            if i.get("train_seconds") and p.get("train_seconds"):
                per = lambda r: (r["train_seconds"] + r["eval_seconds"]) / r["epochs"]
                line += f", per epoch (train + eval) {per(p) / per(i):.2f}x"
            print(line)
            print("  (the two engines draw different subsets and inits, so their runs need different numbers")
            print("   of epochs to reach the criterion; per-epoch time is the like-for-like comparison)")


if __name__ == "__main__":
    main(sys.argv[1])
