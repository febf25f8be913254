#!/usr/bin/python3
"""Recomputes a coordinate-task run's grid spectrum with NumPy and compares it with initscope's.

initscope's Fourier measure (src/measure/fourier.cpp) samples the network on the grid
x_j = −1 + 2j/n (n = 2048 in 1-D, 256 × 256 in 2-D, first coordinate slowest), applies a periodic
Hann window, transforms, normalizes by the window's sum and stores, as the run's artifacts
`spectrum_final` and `spectrum_init`, the energy per frequency bin (1-D) or its radial profile
in 128 rings (2-D). This script does the same from the weights file alone (the encoding's B is
in it) with NumPy's FFT, in float64, and compares the two spectra as vectors: the relative
difference ‖E_ours − E_numpy‖₂ / ‖E_numpy‖₂ must be within --tol. It also prints the largest
per-bin relative difference over the bins holding at least 1e-6 of the total energy: there the
float32 rounding of the network's outputs (initscope evaluates in float32) is amplified by the
bin's weakness (a bin at 1e-6 of the energy has a coefficient 1e-3 of the strongest), so that
figure is informative, not the test.

  tools/spectrum_check.py DB RUN_ID WEIGHTS.safetensors [--which final|init] [--tol 1e-5]

The weights are the run's `--save-weights` folder's final.safetensors (or init.safetensors
with --which init). Exits 1 if the difference exceeds --tol. Needs only python3-numpy.
"""
import argparse
import json
import sqlite3
import struct
import sys

import numpy as np


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    data = blob[8 + n :]
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        b, e = info["data_offsets"]
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).astype(np.float64)
    return out


def encode(x, cfg, tensors):
    kind = cfg.get("encoding", "none")
    if kind == "none":
        return x
    if kind == "fourier":
        a = 2 * np.pi * x @ tensors["encoding.B"].T
        return np.concatenate([np.cos(a), np.sin(a)], axis=1)
    levels = cfg.get("pe_levels", 10)
    parts = []
    for k in range(levels):
        a = (2.0**k) * np.pi * x
        parts += [np.sin(a), np.cos(a)]
    return np.concatenate(parts, axis=1)


def activation(z, cfg, layer):
    act = cfg.get("activation", "relu")
    if act == "relu":
        return np.maximum(z, 0)
    if act == "linear":
        return z
    if act == "tanh":
        return np.tanh(z)
    if act == "sine":
        w = cfg.get("omega0", 30.0) if layer == 0 else cfg.get("omega0_hidden", 30.0)
        return np.sin(w * z)
    if act == "gaussian":
        s = cfg.get("gauss_width", 1.0)
        return np.exp(-(z * z) / (2 * s * s))
    raise SystemExit(f"unknown activation {act}")


def network(x, cfg, tensors):
    h = encode(x, cfg, tensors)
    depth = sum(1 for k in tensors if k.startswith("layers.") and k.endswith(".weight"))
    for i in range(depth):
        h = h @ tensors[f"layers.{i}.weight"].T + tensors[f"layers.{i}.bias"]
        if i + 1 < depth:
            h = activation(h, cfg, i)
    return h[:, 0]


def hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def spectrum(cfg, tensors, dims):
    if dims == 1:
        n = 2048
        x = (-1 + 2 * np.arange(n) / n)[:, None]
        w = hann(n)
        c = np.fft.rfft(network(x, cfg, tensors) * w) / w.sum()
        e = np.abs(c) ** 2
        e[1 : n // 2] *= 2
        return e
    n = 256
    g = -1 + 2 * np.arange(n) / n
    rows, cols = np.meshgrid(g, g, indexing="ij")
    x = np.stack([rows.ravel(), cols.ravel()], axis=1)
    w = hann(n)
    f = network(x, cfg, tensors).reshape(n, n) * np.outer(w, w)
    c = np.fft.rfft2(f) / w.sum() ** 2
    e = np.abs(c) ** 2
    mult = np.full(e.shape, 2.0)
    mult[:, 0] = 1
    mult[:, n // 2] = 1
    e = e * mult
    h = 2.0 / n
    fr = np.fft.fftfreq(n, d=h)
    fc = np.arange(n // 2 + 1) / (n * h)
    radius = np.sqrt(fr[:, None] ** 2 + fc[None, :] ** 2)
    rmax = np.sqrt(2.0) * 0.5 / h
    bins = 128
    b = np.minimum(bins - 1, (radius / rmax * bins).astype(int))
    sums = np.bincount(b.ravel(), weights=e.ravel(), minlength=bins)
    counts = np.bincount(b.ravel(), weights=mult.ravel(), minlength=bins)
    return np.where(counts > 0, sums / np.maximum(counts, 1), 0.0)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("db")
    ap.add_argument("run_id", type=int)
    ap.add_argument("weights")
    ap.add_argument("--which", choices=["final", "init"], default="final")
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    con = sqlite3.connect(f"file:{a.db}?mode=ro", uri=True)
    row = con.execute("SELECT config FROM runs WHERE id = ?", (a.run_id,)).fetchone()
    if row is None:
        sys.exit(f"{a.db}: no run {a.run_id}")
    cfg = json.loads(row[0])
    art = con.execute(
        "SELECT value FROM artifacts WHERE run_id = ? AND name = ?", (a.run_id, f"spectrum_{a.which}")
    ).fetchone()
    if art is None:
        sys.exit(f"{a.db}: run {a.run_id} has no spectrum_{a.which} artifact (not a coordinate task?)")
    ours = np.array(json.loads(art[0]))
    dims = 2 if cfg["dataset"].startswith("image:") else 1
    theirs = spectrum(cfg, read_safetensors(a.weights), dims)
    if ours.shape != theirs.shape:
        sys.exit(f"run {a.run_id}: the artifact has {ours.shape[0]} bins, NumPy {theirs.shape[0]}")
    rel_l2 = np.linalg.norm(ours - theirs) / np.linalg.norm(theirs)
    keep = theirs >= 1e-6 * theirs.sum()
    worst = (np.abs(ours[keep] - theirs[keep]) / theirs[keep]).max()
    print(
        f"run {a.run_id} spectrum_{a.which}: relative L2 difference {rel_l2:.2e} (tolerance {a.tol:g}); "
        f"largest per-bin relative difference {worst:.2e} over the {keep.sum()} of {len(theirs)} bins "
        f"holding ≥ 1e-6 of the energy; total energy ours {ours.sum():.6g}, NumPy {theirs.sum():.6g}"
    )
    sys.exit(0 if rel_l2 <= a.tol else 1)


if __name__ == "__main__":
    main()
