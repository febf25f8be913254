#!/usr/bin/env bash
# Installs what is missing, builds, and runs every test with ctest. CI runs exactly this.
# The suite includes slurm_array_merge (label `slurm`, 12 minutes on 2 shared cores): it starts a
# one-node Slurm with scripts/slurm-local.sh (installing slurmctld, slurmd, slurm-client and
# munge if missing), stops what it started, and is skipped only where Slurm cannot be installed.
# `ctest --test-dir build -LE slurm` leaves it out.
# Then the sanitizers: the suite's folders that are not slow under them (common, data, model,
# objective, optim, train, run, store, sweep; ctest labels from tests/CMakeLists.txt) built with
# ASan and UBSan into build-sanitize/, any report an error.
# Then the fuzz targets (tests/fuzz: the IDX, CIFAR, safetensors, run-config and sweep-file
# readers under libFuzzer, ASan and UBSan), built with clang into build-fuzz/ and run for 20000
# inputs each from a fixed seed: `ctest --test-dir build-fuzz`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
ctest --test-dir build --output-on-failure -j"$(nproc)"
sanitized=(common data model objective optim train run store sweep)
# CI stops at 90 minutes and then keeps nothing: the sanitizer stage gets what is left of 75
# minutes after the stages before it (INITSCOPE_TEST_BUDGET_MINUTES to change), and if its build
# and tests cannot finish in that time it says so and the fuzz stage still runs. A sanitizer
# report or a failing test always fails the script.
budget=$(( ${INITSCOPE_TEST_BUDGET_MINUTES:-75} * 60 - SECONDS ))
sanitize_stage() {
  cmake --preset sanitize -DINITSCOPE_BUILD_BENCH=OFF >/dev/null
  cmake --build --preset sanitize -j"$(nproc)" --target "${sanitized[@]/%/_test}"
  local IFS='|'
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 ASAN_OPTIONS=halt_on_error=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)" -L "^(${sanitized[*]})\$"
}
if (( budget > 300 )); then
  export -f sanitize_stage
  export sanitized_list="${sanitized[*]}"
  set +e
  timeout "$budget" bash -c 'set -euo pipefail; sanitized=($sanitized_list); sanitize_stage'
  rc=$?
  set -e
  if (( rc == 124 )); then
    echo "scripts/test.sh: the sanitizer stage did not finish in the ${budget} s left of the budget; skipped (run it alone: see CONTRIBUTING.md)" >&2
  elif (( rc != 0 )); then
    exit "$rc"
  fi
else
  echo "scripts/test.sh: no time left for the sanitizer stage (${SECONDS} s used of the budget); skipped" >&2
fi
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j"$(nproc)"
ctest --test-dir build-fuzz --output-on-failure -j"$(nproc)"
