#!/usr/bin/env bash
# The main job: installs what is missing, builds, fetches MNIST, runs the quick Nagarajan &
# Kolter set into initscope.db and writes the report to report/index.html:
#   Figure 1 (cross-entropy; nk17-fig1-quick.toml and its extra sizes), Figures 2 and 4
#   (Experiments A and C, squared loss), Figure 5 (random ±1 labels), Figure 6 (two classes with
#   noisy labels), the initialization-only theory checks, and Theorem 5.1's Rademacher estimate
#   on linear networks; Theorems C.1 and C.2 are measured on the Figure 5 and 6 runs.
# 712 s on two quiet cores (the time is printed at the end; the README gives the measurement). Safe to repeat and to interrupt: a second run resumes the
# sweeps where they stopped and rewrites the report.
# Figure 3 (Experiment B) needs CIFAR-10, which cannot be fetched; its claims print SKIP.
# Then our test of Ramasinghe et al. (RM23, experiments and rules ours): E1 on signal1d, E2 on
# the standard images, E3 on MNIST classifiers with line spectra and E4's mechanism check
# (rm23-e1..e4-quick: 41, 10, 55 and 21 s on quiet cores; E3 with its flatness measures),
# whose rm23-* claims the same report prints, with the Fourier view ranked against flatness on
# E3's runs.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
scripts/setup.sh
build/initscope data fetch mnist
build/initscope data fetch images
for f in nk17-fig1-quick nk17-fig1-quick-more-m nk17-expA-quick nk17-expC-quick nk17-fig5-quick \
  nk17-fig6-quick nk17-init nk17-thm51-quick rm23-e1-quick rm23-e2-quick rm23-e3-quick \
  rm23-e4-quick; do
  build/initscope sweep "experiments/$f.toml" --db initscope.db
done
build/initscope report --db initscope.db --out report
echo "main job took $(($(date +%s) - start)) s; open report/index.html in a browser"
