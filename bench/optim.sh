#!/bin/bash
# bench/optim.sh: the optimizers' steps against PyTorch's, in one invocation.
#
# One Adam step (784-H-H-H-H-10 ReLU, cross-entropy, torch.optim.Adam semantics) at batch 64
# and at batch 4096, and one full-batch gd step (the mean loss's gradient over the first m
# MNIST rows, then SGD momentum 0.9) at m = 16384, each timed in steady state in initscope
# (bench/step_bench --mode adam|gd) and in PyTorch (bench/pytorch_reference.py --optimizer
# adam|gd), each at 1 and 2 threads with the best counting, alternating the two engines
# round by round so that a busy spell on a shared machine hits both. Prints per case: time
# per step, GFLOP/s (same FLOP convention as bench/run.sh: 6·B·Σ in·out − 2·B·784·H), the
# speedup over PyTorch and the fraction of the sgemm peak; for Adam also what the update alone
# costs next to the step (the most that fusing it into the backward could save).
#
#   bench/optim.sh [--width 256] [--rounds 2] [--seconds 1] [--gd-m 16384] [--save FILE]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${INITSCOPE_BUILD_DIR:-$ROOT/build}
PYTHON=/usr/bin/python3
WIDTH=256
ROUNDS=2
SECS=1.0
GD_M=16384
SAVE=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --width) WIDTH=$2; shift ;;
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --gd-m) GD_M=$2; shift ;;
    --save) SAVE=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/optim.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
"$PYTHON" -c 'import torch' 2>/dev/null ||
  { echo "bench/optim.sh: $PYTHON cannot import torch (scripts/setup.sh --torch)" >&2; exit 1; }
[[ -x "$BUILD/bench/step_bench" ]] || { echo "bench/optim.sh: build step_bench first ($BUILD)" >&2; exit 1; }

OUT=$(mktemp -d /tmp/initscope-optim.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
RESULTS=${SAVE:-$OUT/results.jsonl}
: >"$RESULTS"
TORCH_ENV=()
if grep -q avx512f /proc/cpuinfo; then TORCH_ENV=(env OPENBLAS_CORETYPE=SKYLAKEX); fi

echo "bench/optim.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BUILD/bench/step_bench" --mode peak --seconds "$SECS" --repeats 3 >>"$RESULTS"
for ROUND in $(seq "$ROUNDS"); do
  for B in 64 4096; do
    echo "  round $ROUND, Adam at batch $B" >&2
    "$BUILD/bench/step_bench" --mode adam --widths "$WIDTH" --batches "$B" --threads 1,2 --seconds "$SECS" >>"$RESULTS"
    "${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/pytorch_reference.py" --optimizer adam --widths "$WIDTH" --batch "$B" \
      --threads 1,2 --seconds "$SECS" >>"$RESULTS"
  done
  echo "  round $ROUND, gd at m = $GD_M" >&2
  "$BUILD/bench/step_bench" --mode gd --widths "$WIDTH" --m "$GD_M" --threads 1,2 --seconds "$SECS" --repeats 2 >>"$RESULTS"
  "${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/pytorch_reference.py" --optimizer gd --widths "$WIDTH" --m "$GD_M" \
    --threads 1,2 --seconds "$SECS" --repeats 2 >>"$RESULTS"
done

"$PYTHON" - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peak = max(r["gflops"] for r in rows if r["kind"] == "peak")
best = {}
for r in rows:
    if r["kind"] not in ("adam", "gd"):
        continue
    key = (r["kind"], r["width"], r.get("batch", r.get("m")), r["engine"])
    if key not in best or r["seconds_per_step"] < best[key]["seconds_per_step"]:
        best[key] = r
print(f"sgemm peak (OpenBLAS, best of 64x4096x4096 and 1024x4096x4096): {peak:.1f} GFLOP/s")
print(f"{'step':<22} {'initscope':>12} {'thr':>3} {'GFLOP/s':>8} {'PyTorch':>12} {'thr':>3} {'GFLOP/s':>8} {'speedup':>8} {'of peak':>8}")
for (kind, width, b, engine), r in sorted(best.items()):
    if engine != "initscope":
        continue
    t = best.get((kind, width, b, "pytorch"))
    ours = r["seconds_per_step"]
    gf = r["flops_per_step"] / ours * 1e-9
    name = f"{kind} H={width} " + (f"B={b}" if kind == "adam" else f"m={b}")
    line = f"{name:<22} {ours*1e3:10.3f}ms {r['threads']:>3} {gf:8.1f}"
    if t:
        tgf = t["flops_per_step"] / t["seconds_per_step"] * 1e-9
        line += f" {t['seconds_per_step']*1e3:10.3f}ms {t['threads']:>3} {tgf:8.1f} {t['seconds_per_step']/ours:7.2f}x {gf/peak:7.0%}"
    print(line)
    if kind == "adam":
        print(f"{'':<22}   update alone {r['update_seconds']*1e3:.3f}ms ({r['update_seconds']/ours:.0%} of the step); "
              f"fused SGD step at this batch {r['sgd_fused_seconds']*1e3:.3f}ms")
PY
