#!/usr/bin/env bash
# The main job: installs what is missing, builds, fetches MNIST, and runs the default
# experiment into initscope.db: one network of width 256 trained on 4096 MNIST digits with
# cross-entropy until 99% of them have margin ≥ 10 (the criterion of Figure 1).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
build/initscope data fetch mnist
build/initscope train --dataset mnist --width 256 --m 4096 --loss ce --lr 0.1 --momentum 0.9 \
  --stop margin:10:0.99 --db initscope.db
build/initscope runs --db initscope.db
