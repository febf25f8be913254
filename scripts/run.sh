#!/usr/bin/env bash
# The main job: installs what is missing, builds, fetches MNIST, runs the quick Figure-1 sweep
# of Nagarajan & Kolter and an initialization-only sweep into initscope.db, and writes the
# report to report/index.html. Safe to repeat and to interrupt: a second run resumes the
# sweeps where they stopped and rewrites the report.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/initscope data fetch mnist
build/initscope sweep experiments/nk17-fig1-quick.toml --db initscope.db
build/initscope sweep experiments/nk17-init.toml --db initscope.db
build/initscope report --db initscope.db --out report
echo "open report/index.html in a browser"
