#!/usr/bin/env bash
# initscope's stored grid spectra against NumPy's recomputation from the saved weights
# (tools/spectrum_check.py): a 1-D SIREN fit of signal1d and a 2-D Fourier-feature fit of a
# generated 24×24 PNG, at init and at the end, to 1e-5 relative. Skipped (exit 77) where
# Debian's python3-numpy is not installed; downloads nothing.
set -euo pipefail
bin=$1
tools=$(dirname "$0")/../../tools
/usr/bin/python3 -c "import numpy" 2>/dev/null || { echo "skip: python3-numpy is not installed"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# A 24×24 grayscale PNG with a diagonal pattern, written with the standard library only.
/usr/bin/python3 - "$tmp/pattern.png" <<'PY'
import math, struct, sys, zlib
n = 24
rows = b"".join(b"\0" + bytes(int(127.5 + 127.5 * math.sin(0.5 * r + 0.3 * c)) for c in range(n)) for r in range(n))
def chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", n, n, 8, 0, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
open(sys.argv[1], "wb").write(png)
PY
"$bin" train --dataset signal1d --m 32 --width 64 --depth 4 --activation sine --init siren \
  --optimizer gd --lr 1e-3 --stop 'mse<=1e-4' --db "$tmp/s.db" --save-weights "$tmp/w1" >/dev/null
"$bin" train --dataset "image:$tmp/pattern.png" --image-size 24 --width 32 --depth 3 \
  --encoding fourier --fourier-features 16 --fourier-sigma 3 --optimizer adam --lr 1e-3 \
  --batch 144 --max-epochs 20 --db "$tmp/s.db" --save-weights "$tmp/w2" >/dev/null
for which in init final; do
  /usr/bin/python3 "$tools/spectrum_check.py" "$tmp/s.db" 1 "$tmp/w1/$which.safetensors" --which $which
  /usr/bin/python3 "$tools/spectrum_check.py" "$tmp/s.db" 2 "$tmp/w2/$which.safetensors" --which $which
done
