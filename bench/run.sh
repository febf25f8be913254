#!/bin/bash
# bench/run.sh: initscope's training step against PyTorch's, in one invocation.
#
# For H in 64, 256, 1024, 4096 (784-H-H-H-H-10, batch 64, SGD momentum 0.9, cross-entropy,
# epoch-shuffled minibatches of the first 4096 MNIST digits) it times, in steady state,
# initscope's step (bench/step_bench, 1 and 2 threads) and the same step in PyTorch (bench/pytorch_reference.py,
# best of 1 and 2 threads), measures the machine's sgemm peak, and prints per width: time per
# step, GFLOP/s, speedup over PyTorch and fraction of peak. Widths alternate between the two
# engines so that a busy spell on a shared machine hits both. Then: one step at H=1024 phase by
# phase, the costs around the steps (evaluation for the stopping criterion, gathering, final
# measures), each engine's per-run fixed cost and memory (a run of 0 steps), and, if
# experiments/nk17-fig1-quick.toml exists, the quick Figure-1 sweep timed end to end in
# initscope and in PyTorch.
#
#   bench/run.sh [--quick] [--no-sweep] [--rounds N] [--widths 64,256,1024,4096] [--save FILE]
#                [--sweep-db FILE]
#
# --save FILE writes the raw measurements there as they come (JSON lines; bench/report.py FILE
# prints the report again). --sweep-db FILE keeps the initscope sweep's database there (it must
# not exist yet), to compare its stored numbers with another build's.
#
# Needs: a C++ build (done here if needed, in $INITSCOPE_BUILD_DIR, default build/), MNIST
# (initscope data fetch mnist), Debian's python3-torch (/usr/bin/python3).
# FLOP convention (both engines): 2·B·Σ in·out forward + 4·B·Σ in·out backward − 2·B·784·H
# (no input gradient at the first layer).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${INITSCOPE_BUILD_DIR:-$ROOT/build}
PYTHON=/usr/bin/python3  # Debian's python with python3-torch, not a pyenv one
WIDTHS=64,256,1024,4096
SECONDS_PER_RUN=1.0
REPEATS=3
ROUNDS=2
SWEEP=1
SAVE=
SWEEP_DB=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --quick) SECONDS_PER_RUN=0.3; REPEATS=2; ROUNDS=1 ;;
    --rounds) ROUNDS=$2; shift ;;
    --save) SAVE=$2; shift ;;
    --sweep-db) SWEEP_DB=$2; shift ;;
    --no-sweep) SWEEP=0 ;;
    --widths) WIDTHS=$2; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "bench/run.sh: unknown option $1 (see --help)" >&2; exit 1 ;;
  esac
  shift
done

if ! "$PYTHON" -c 'import torch' 2>/dev/null; then
  echo "bench/run.sh: $PYTHON cannot import torch; install Debian's python3-torch (scripts/setup.sh --torch)" >&2
  exit 1
fi

# Build if needed (Release; incremental when the build folder exists).
if [[ ! -f "$BUILD/CMakeCache.txt" ]]; then
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
cmake --build "$BUILD" --target step_bench kernels_bench initscope -j"$(nproc)" >/dev/null

OUT=$(mktemp -d /tmp/initscope-bench.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
RESULTS=${SAVE:-$OUT/results.jsonl}
SWEEP_DB=${SWEEP_DB:-$OUT/sweep.db}
if [[ -e "$SWEEP_DB" ]]; then
  echo "bench/run.sh: --sweep-db $SWEEP_DB already exists; the sweep must start from an empty database" >&2
  exit 1
fi
: >"$RESULTS"

# PyTorch gets OpenBLAS's AVX-512 kernels where the CPU has them (Debian's OpenBLAS, or an
# inherited OPENBLAS_CORETYPE, may otherwise pick its AVX2 ones); initscope selects them itself
# at start-up (src/model/cpu.hpp) and reports which it runs.
TORCH_ENV=()
if grep -q avx512f /proc/cpuinfo; then TORCH_ENV=(env OPENBLAS_CORETYPE=SKYLAKEX); fi

echo "bench/run.sh: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
"$BUILD/bench/step_bench" --mode peak --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" >>"$RESULTS"
for ROUND in $(seq "$ROUNDS"); do
  for H in ${WIDTHS//,/ }; do
    echo "  round $ROUND, H=$H: initscope" >&2
    "$BUILD/bench/step_bench" --widths "$H" --threads 1,2 --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" >>"$RESULTS"
    echo "  round $ROUND, H=$H: PyTorch (1 and 2 threads)" >&2
    "${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/pytorch_reference.py" --widths "$H" --threads 1,2 \
      --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" >>"$RESULTS"
  done
done
"$BUILD/bench/step_bench" --mode peak --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" >>"$RESULTS"
echo "  profile of one step at H=1024 and H=64; costs around the steps" >&2
"$BUILD/bench/step_bench" --mode profile --widths 1024,64 --seconds "$SECONDS_PER_RUN" >>"$RESULTS"
"$BUILD/bench/step_bench" --mode costs --widths "$WIDTHS" --seconds "$SECONDS_PER_RUN" --repeats "$REPEATS" >>"$RESULTS"

# Peak RSS of a real `initscope train` process per width (20 steps at m=4096): the step
# benchmark's own process keeps the raw MNIST files loaded for all widths, a run does not.
"$PYTHON" - "$BUILD/initscope" "$OUT/rss.db" "$WIDTHS" >>"$RESULTS" <<'PY'
import json, os, subprocess, sys
for h in sys.argv[3].split(","):
    p = subprocess.Popen([sys.argv[1], "train", "--width", h, "--m", "4096", "--max-steps", "20", "--db", sys.argv[2]],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, ru = os.wait4(p.pid, 0)  # this child's own peak RSS
    if status != 0:
        sys.exit(f"bench/run.sh: initscope train --width {h} failed")
    print(json.dumps({"kind": "rss", "engine": "initscope", "width": int(h), "peak_rss_mb": ru.ru_maxrss / 1024.0}))
PY

# Per-run fixed cost: a run that trains nothing (H=64, m=1024), start to exit, with its peak RSS
# and private memory, initscope against PyTorch, alternating (bench/fixed_cost.py).
echo "  per-run fixed cost (0 steps, H=64, m=1024): initscope and PyTorch, alternating" >&2
"${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/fixed_cost.py" "$BUILD/initscope" \
  "${INITSCOPE_DATA:-$HOME/.cache/initscope}" --repeats "$REPEATS" >>"$RESULTS"

# ---- optional: the quick Figure-1 sweep, end to end ------------------------------------------
SWEEP_FILE=$ROOT/experiments/nk17-fig1-quick.toml
if [[ $SWEEP == 1 && -f "$SWEEP_FILE" ]]; then
  # Placement (sweep --placement auto) goes by the machine's calibration; measuring it is a
  # one-time cost per machine, kept out of the sweep's time.
  if ! "$BUILD/initscope" calibrate --show >/dev/null 2>&1; then
    echo "  calibrating this machine for sweep placement (once)" >&2
    "$BUILD/initscope" calibrate >&2
  fi
  echo "  sweep $SWEEP_FILE: initscope" >&2
  start=$EPOCHREALTIME
  "$BUILD/initscope" sweep "$SWEEP_FILE" --db "$SWEEP_DB" >"$OUT/sweep.log" 2>&1 ||
    { echo "bench/run.sh: the initscope sweep failed; its log:" >&2; cat "$OUT/sweep.log" >&2; exit 1; }
  end=$EPOCHREALTIME
  "$PYTHON" - "$SWEEP_DB" "$(echo "$end - $start" | "$PYTHON" -c 'print(eval(input()))')" "$OUT/sweep.log" >>"$RESULTS" <<'PY'
import json, sqlite3, sys
placement = next((l.strip()[len("sweep: "):] for l in open(sys.argv[3]) if l.startswith("sweep: placement")), "")
db = sqlite3.connect(sys.argv[1])
total = lambda name: db.execute("SELECT COALESCE(SUM(value), 0) FROM metrics WHERE name = ?", (name,)).fetchone()[0]
# Per width: what the stopping checks cost next to the training steps in whole runs.
by_width = [dict(zip(("width", "runs", "train_seconds", "eval_seconds", "check_rows_fraction"), row)) for row in db.execute(
    "SELECT json_extract(r.config, '$.width') AS w, COUNT(*), "
    "SUM(CASE WHEN m.name = 'train_seconds' THEN m.value END), SUM(CASE WHEN m.name = 'eval_seconds' THEN m.value END), "
    "AVG(CASE WHEN m.name = 'check_rows_fraction' THEN m.value END) "
    "FROM runs r JOIN metrics m ON m.run_id = r.id WHERE r.status = 'completed' "
    "AND m.name IN ('train_seconds', 'eval_seconds', 'check_rows_fraction') GROUP BY w ORDER BY w")]
for w in by_width:
    w["runs"] = db.execute("SELECT COUNT(*) FROM runs WHERE status = 'completed' AND json_extract(config, '$.width') = ?",
                           (w["width"],)).fetchone()[0]
print(json.dumps({"kind": "sweep", "engine": "initscope", "seconds": float(sys.argv[2]),
                  "runs": db.execute("SELECT COUNT(*) FROM runs").fetchone()[0], "epochs": total("epochs"),
                  "train_seconds": total("train_seconds"), "eval_seconds": total("eval_seconds"),
                  "measure_seconds": total("measure_seconds"), "run_wall_seconds": total("wall_seconds"),
                  "placement": placement,
                  "by_width": by_width}))
PY
  echo "  sweep $SWEEP_FILE: PyTorch" >&2
  "${TORCH_ENV[@]}" "$PYTHON" "$ROOT/bench/pytorch_reference.py" --sweep "$SWEEP_FILE" >>"$RESULTS"
elif [[ $SWEEP == 1 ]]; then
  echo "{\"kind\":\"sweep_skipped\",\"reason\":\"$SWEEP_FILE does not exist (yet)\"}" >>"$RESULTS"
fi

"$PYTHON" "$ROOT/bench/report.py" "$RESULTS"
