#!/usr/bin/env bash
# kill -9 at random moments of a 30-run sweep, ten times on one database, then one sweep to the
# end: the database must hold every configuration exactly once as completed, diverged or failed,
# with no row left `running`, and every finished row whole (its metrics and trajectory landed
# with its status, in one transaction). Interrupted rows may remain as a record of the kills.
#   tests/sweep/kill_resume.sh build/initscope [ROUNDS]
# Needs the sqlite3 command-line shell (scripts/setup.sh installs it). About 30 s on 2 cores.
set -euo pipefail
bin=$(realpath "$1")
rounds=${2:-10}
command -v sqlite3 >/dev/null || { echo "kill_resume: needs sqlite3 (scripts/setup.sh)" >&2; exit 77; }

work=$(mktemp -d /tmp/initscope-kill-resume.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# A tiny MNIST-format dataset: 4x4 images of random pixels, labels 0..3.
be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
write_set() {  # prefix n
  { be32 $((0x803)); be32 "$2"; be32 4; be32 4; head -c $(($2 * 16)) /dev/urandom; } >"data/mnist/$1-images-idx3-ubyte"
  { be32 $((0x801)); be32 "$2"; for ((i = 0; i < $2; i++)); do printf "\\x0$((i % 4))"; done; } >"data/mnist/$1-labels-idx1-ubyte"
}
mkdir -p data/mnist
write_set train 300
write_set t10k 100

# 27 ordinary runs, one that diverges (a result) and one that fails before training (m larger
# than the data: recorded failed, and not retried), plus one more ordinary run: 30.
cat >sweep.toml <<'EOF'
[base]
m = 200
lr = 0.05
max_epochs = 60
[grid]
width = [32, 128, 256]
seed = [1, 2, 3, 4, 5, 6, 7, 8, 9]
[[runs]]
loss = "mse"
lr = 10000.0
max_epochs = 50
[[runs]]
m = 100000
[[runs]]
width = 64
EOF
sweep=("$bin" sweep sweep.toml --db k.db --data-dir data --jobs 2)
total=$("$bin" sweep sweep.toml --dry-run --db k.db | head -1 | cut -d' ' -f1)
[[ $total == 30 ]] || { echo "kill_resume: expected 30 runs, the dry run says $total" >&2; exit 1; }

# True while process $1 exists and is not a zombie.
alive() { [[ -e /proc/$1/stat ]] && [[ $(sed 's/.*) //' "/proc/$1/stat" | cut -c1) != Z ]]; }

kills=0
for ((k = 1; k <= rounds; k++)); do
  "${sweep[@]}" >>log.txt 2>&1 &  # $! is the sweep itself (a simple command is exec'd)
  pid=$!
  ms=$((200 + RANDOM % 1800))  # a random moment 0.2–2 s in (the whole sweep takes about 10 s)
  sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
  children=$(pgrep -P "$pid" || true)
  if kill -9 "$pid" 2>/dev/null; then kills=$((kills + 1)); fi
  wait "$pid" 2>/dev/null || true
  # The children die with the sweep (PR_SET_PDEATHSIG); wait until they are gone.
  for c in $children; do while alive "$c"; do sleep 0.02; done; done
  running=$(sqlite3 k.db "select count(*) from runs where status in ('completed','diverged','failed')" 2>/dev/null || echo 0)
  echo "round $k: killed after $running finished runs"
  ((running < total)) || break
done
"${sweep[@]}" >>log.txt 2>&1 || true  # exits 1 if this last part ran the failing config
tail -1 log.txt

q() { sqlite3 k.db "$1"; }
fail=0
check() {  # name expected actual
  if [[ $2 != "$3" ]]; then echo "FAIL $1: expected $2, got $3" >&2; fail=1; else echo "ok   $1: $3"; fi
}
check "rows running" 0 "$(q "select count(*) from runs where status='running'")"
check "configs finished" "$total" "$(q "select count(distinct config_hash) from runs where status in ('completed','diverged','failed')")"
check "finished rows (no duplicates)" "$total" "$(q "select count(*) from runs where status in ('completed','diverged','failed')")"
check "completed" 28 "$(q "select count(*) from runs where status='completed'")"
check "diverged" 1 "$(q "select count(*) from runs where status='diverged'")"
check "failed, naming --m" 1 "$(q "select count(*) from runs where status='failed' and error like '--m 100000%'")"
check "completed rows without dist_init" 0 "$(q "select count(*) from runs r where status='completed' and not exists (select 1 from metrics where run_id=r.id and name='dist_init' and value is not null)")"
check "completed or diverged rows without a trajectory" 0 "$(q "select count(*) from runs r where status in ('completed','diverged') and not exists (select 1 from trajectory where run_id=r.id)")"
check "rows without a status's data (no stopped_by)" 0 "$(q "select count(*) from runs where status in ('completed','diverged','failed','interrupted') and stopped_by is null and error is null")"
check "integrity" ok "$(q "pragma integrity_check")"
echo "kills: $kills; interrupted rows left as a record: $(q "select count(*) from runs where status='interrupted'")"
exit $fail
