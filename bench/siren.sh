#!/bin/bash
# bench/siren.sh: issue 10's SIREN-shaped steps against PyTorch's, in one invocation.
#
# A 2→256→256→256→1 sine network (--init siren, ω₀ = 30), MSE on one output, on the 128 × 128
# grid of [−1, 1]² (16,384 points, the training pixels of a 256² image at stride 2): one
# full-batch gd step over all of them (SGD momentum 0.9) and one Adam step on a batch of 4,096.
# Each is timed in steady state in initscope (bench/step_bench --mode siren) and in PyTorch
# (bench/pytorch_reference.py --siren), at 1 and 2 threads with the best counting, alternating
# the two engines round by round so that a busy spell on a shared machine hits both. The sgemm
# peak (OpenBLAS, step_bench --mode peak) is measured in the same invocation. Prints per step:
# time, GFLOP/s (6·B·Σ in·out − 2·B·2·256, as bench/run.sh counts), speedup over PyTorch (the
# ratio of the two best times of this invocation, and the median and range of the ratios round
# by round, which a machine whose speed drifts between rounds moves less) and the fraction of
# the sgemm peak.
#
#   bench/siren.sh [--rounds 3] [--seconds 1] [--save FILE]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${INITSCOPE_BUILD_DIR:-$ROOT/build}
PYTHON=/usr/bin/python3
ROUNDS=3
SECS=1.0
SAVE=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --rounds) ROUNDS=$2; shift ;;
    --seconds) SECS=$2; shift ;;
    --save) SAVE=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/siren.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done
"$PYTHON" -c 'import torch' 2>/dev/null ||
  { echo "bench/siren.sh: $PYTHON cannot import torch (scripts/setup.sh --torch)" >&2; exit 1; }
[[ -x "$BUILD/bench/step_bench" ]] || { echo "bench/siren.sh: build step_bench first ($BUILD)" >&2; exit 1; }

OUT=$(mktemp -d /tmp/initscope-siren.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
RESULTS=${SAVE:-$OUT/results.jsonl}
: >"$RESULTS"
TORCH_ENV=()
if grep -q avx512f /proc/cpuinfo; then TORCH_ENV=(env OPENBLAS_CORETYPE=SKYLAKEX); fi

echo "bench/siren.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
ours() {
  "$BUILD/bench/step_bench" --mode siren --threads 1,2 --seconds "$SECS" --repeats 3 |
    sed "s/^{/{\"round\": $ROUND, /" >>"$RESULTS"
}
theirs() {
  "${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/pytorch_reference.py" --siren --threads 1,2 --seconds "$SECS" \
    --repeats 3 | sed "s/^{/{\"round\": $ROUND, /" >>"$RESULTS"
}
for ROUND in $(seq "$ROUNDS"); do
  echo "  round $ROUND" >&2
  "$BUILD/bench/step_bench" --mode peak --seconds "$SECS" --repeats 2 >>"$RESULTS"
  # Each engine goes first in every other round.
  if ((ROUND % 2)); then ours; theirs; else theirs; ours; fi
done

"$PYTHON" - "$RESULTS" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
peak = max(r["gflops"] for r in rows if r["kind"] == "peak")
best = {}
for r in rows:
    if r["kind"] not in ("siren_gd", "siren_adam"):
        continue
    key = (r["kind"], r["engine"])
    if key not in best or r["seconds_per_step"] < best[key]["seconds_per_step"]:
        best[key] = r
print(f"sgemm peak (OpenBLAS, best of 64x4096x4096 and 1024x4096x4096, this invocation): {peak:.1f} GFLOP/s")
print(f"{'step':<34} {'initscope':>11} {'thr':>3} {'GFLOP/s':>8} {'PyTorch':>11} {'thr':>3} {'GFLOP/s':>8} {'speedup':>8} {'of peak':>8}")
names = {"siren_gd": "gd, all 16384 points", "siren_adam": "Adam, batch 4096"}
rounds = {}
for r in rows:
    if r["kind"] in names:
        key = (r["kind"], r["round"], r["engine"])
        rounds[key] = min(rounds.get(key, 1e300), r["seconds_per_step"])
for kind in ("siren_gd", "siren_adam"):
    r, t = best.get((kind, "initscope")), best.get((kind, "pytorch"))
    if not r or not t:
        continue
    ours, theirs = r["seconds_per_step"], t["seconds_per_step"]
    gf, tgf = r["flops_per_step"] / ours * 1e-9, t["flops_per_step"] / theirs * 1e-9
    print(f"{'SIREN 2-256-256-256-1 ' + names[kind]:<34} {ours*1e3:9.2f}ms {r['threads']:>3} {gf:8.1f} "
          f"{theirs*1e3:9.2f}ms {t['threads']:>3} {tgf:8.1f} {theirs/ours:7.2f}x {gf/peak:7.0%}")
    ratios = sorted(rounds[(kind, n, "pytorch")] / rounds[(kind, n, "initscope")]
                    for (k, n, e) in rounds if k == kind and e == "initscope" and (kind, n, "pytorch") in rounds)
    if ratios:
        print(f"{'':<34} speedup round by round: median {ratios[len(ratios) // 2]:.2f}x, "
              f"range {ratios[0]:.2f}-{ratios[-1]:.2f}x over {len(ratios)} rounds")
PY
