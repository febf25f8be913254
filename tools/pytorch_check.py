#!/usr/bin/python3
"""Loads an initscope final.safetensors into plain PyTorch nn.Linear layers and evaluates it.

A PyTorch user's view of our weights: the names are those of a ModuleList called `layers`,
so `load_state_dict` takes the file as it is. Prints the test error PyTorch computes and, if
given the run's JSON record, the one initscope stored, so the two can be compared.

  tools/pytorch_check.py WEIGHTS.safetensors [--data-dir DIR] [--record RUN.json]

Needs Debian's python3-torch and python3-numpy (scripts/setup.sh --torch). The safetensors
Python package is not in Debian 12, so the file is parsed here: 8-byte header length, JSON
header, raw little-endian F32 data.
"""
import argparse
import json
import math
import os
import struct
import sys

import numpy as np
import torch


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
        assert info["dtype"] == "F32", f"{name}: dtype {info['dtype']}"
        b, e = info["data_offsets"]
        out[name] = torch.from_numpy(np.frombuffer(data[b:e], dtype="<f4").copy()).reshape(info["shape"])
    return out, header.get("__metadata__", {})


def read_idx(path):
    with open(path, "rb") as f:
        blob = f.read()
    ndim = blob[3]
    dims = struct.unpack(">" + "I" * ndim, blob[4 : 4 + 4 * ndim])
    return np.frombuffer(blob[4 + 4 * ndim :], dtype=np.uint8).reshape(dims)


class FourierEncoding(torch.nn.Module):
    """initscope's --encoding fourier: gamma(v) = [cos 2 pi B v, sin 2 pi B v], B fixed (a buffer,
    saved as encoding.B), computed in double and rounded once to float as initscope does."""

    def __init__(self, B):
        super().__init__()
        self.register_buffer("B", B.clone())

    def forward(self, x):
        a = 2.0 * math.pi * (x.double() @ self.B.double().T)
        return torch.cat([torch.cos(a), torch.sin(a)], dim=1).float()


class PositionalEncoding(torch.nn.Module):
    """initscope's --encoding positional: [sin(2^k pi v), cos(2^k pi v)] for k < L, v excluded."""

    def __init__(self, levels):
        super().__init__()
        self.levels = levels

    def forward(self, x):
        xd = x.double()
        parts = []
        for k in range(self.levels):
            parts += [torch.sin((2.0**k * math.pi) * xd), torch.cos((2.0**k * math.pi) * xd)]
        return torch.cat(parts, dim=1).float()


class Mlp(torch.nn.Module):
    """initscope's network: layers.{i} nn.Linear, phi between them; `params` gives sine's omega0
    and omega0_hidden (SIREN: sin(omega * (Wx + b))) and gaussian's width s; `encoding` is applied
    first (a FourierEncoding's B is loaded from encoding.B by load_state_dict)."""

    def __init__(self, sizes, activation, omega0=30.0, omega0_hidden=30.0, gauss_width=1.0, encoding=None):
        super().__init__()
        self.layers = torch.nn.ModuleList(torch.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:]))
        if activation not in self.ACTIVATIONS:
            raise ValueError(f"unknown activation {activation!r} (expected one of {sorted(self.ACTIVATIONS)})")
        self.activation = activation
        self.omega0, self.omega0_hidden, self.gauss_width = omega0, omega0_hidden, gauss_width
        if encoding is not None:
            self.encoding = encoding

    # Every activation initscope knows (model/activation.hpp), as phi(z, layer index, model); any
    # other name is refused, never treated as linear.
    ACTIVATIONS = {
        "relu": lambda z, k, m: torch.relu(z),
        "linear": lambda z, k, m: z,
        "tanh": lambda z, k, m: torch.tanh(z),
        "sine": lambda z, k, m: torch.sin((m.omega0 if k == 0 else m.omega0_hidden) * z),
        "gaussian": lambda z, k, m: torch.exp(-(z * z) / (2.0 * m.gauss_width * m.gauss_width)),
    }

    def forward(self, x):
        if hasattr(self, "encoding"):
            x = self.encoding(x)
        phi = self.ACTIVATIONS[self.activation]
        for i, layer in enumerate(self.layers):
            x = layer(x)
            if i < len(self.layers) - 1:
                x = phi(x, i, self)
        return x


def mlp_for(tensors, config):
    """The Mlp of a saved initscope run: sizes from the tensors, the rest from its config."""
    depth = len([k for k in tensors if k.startswith("layers.") and k.endswith(".weight")])
    sizes = [tensors["layers.0.weight"].shape[1]] + [tensors[f"layers.{i}.weight"].shape[0] for i in range(depth)]
    enc = None
    if config.get("encoding", "none") == "fourier":
        enc = FourierEncoding(tensors["encoding.B"])
    elif config.get("encoding", "none") == "positional":
        enc = PositionalEncoding(config["pe_levels"])
    return Mlp(sizes, config.get("activation", "relu"), config.get("omega0", 30.0), config.get("omega0_hidden", 30.0),
               config.get("gauss_width", 1.0), enc)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("weights")
    ap.add_argument("--data-dir", default=os.environ.get("INITSCOPE_DATA", os.path.expanduser("~/.cache/initscope")))
    ap.add_argument("--record", help="the run's JSON record (initscope train --json or show --json)")
    args = ap.parse_args()

    tensors, meta = read_safetensors(args.weights)
    config = json.loads(meta["config"]) if "config" in meta else {}
    model = mlp_for(tensors, config)
    model.load_state_dict(tensors, strict=True)
    sizes = [model.layers[0].in_features] + [l.out_features for l in model.layers]

    if config.get("dataset", "mnist") != "mnist" or config.get("classes") or config.get("standardize"):
        sys.exit("pytorch_check: only plain 10-class MNIST runs are supported here")
    d = os.path.join(args.data_dir, "mnist")
    x = torch.from_numpy(read_idx(os.path.join(d, "t10k-images-idx3-ubyte")).reshape(-1, 784).astype(np.float32) / 255.0)
    y = torch.from_numpy(read_idx(os.path.join(d, "t10k-labels-idx1-ubyte")).astype(np.int64))
    with torch.no_grad():
        logits = model(x)
        err = (logits.argmax(1) != y).float().mean().item()
        loss = torch.nn.functional.cross_entropy(logits, y).item()
    print(f"pytorch: {sizes} test_error {err:.6f} test_loss {loss:.6f}")
    if args.record:
        with open(args.record) as f:
            rec = json.load(f)
        ours = rec["metrics"]["test_error"]
        print(f"initscope: test_error {ours:.6f} test_loss {rec['metrics']['test_loss']:.6f}")
        print("agree" if abs(ours - err) < 0.5 / len(y) else "DISAGREE")
        sys.exit(0 if abs(ours - err) < 0.5 / len(y) else 1)


if __name__ == "__main__":
    main()
