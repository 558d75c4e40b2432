#!/usr/bin/env python3
"""Draws bench/attention.py's CSV as a PNG: TFLOP/s per row for every method that ran (decode rows
in GB/s, on their own panel), and tritonpack's ratio to SDPA cuDNN and SDPA flash.

Usage: python bench/plot_attention.py attention.csv attention.png [--title "..."]
Needs matplotlib (any machine; no GPU).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os

METHODS = [("tritonpack", "tritonpack (portable)"), ("tritonpack_sm90", "tritonpack sm_90 (Gluon)"),
           ("tritonpack_decode", "tritonpack decode (split-KV)"),
           ("tritonpack_fp8", "tritonpack FP8 e4m3 (portable kernel)"),
           ("sdpa_cudnn", "SDPA cuDNN"), ("sdpa_flash", "SDPA flash"),
           ("triton_jit", "Triton JIT, portable source"), ("triton_jit_sm90", "Gluon JIT, sm_90 source"), ("fmha_seed", "seed kernel (fmha)"),
           # Last, so that the methods before it keep their colours (C0-C8) in plots of older CSVs.
           ("tritonpack_fp8_vt", "tritonpack FP8 e4m3, V transposed (portable kernel)")]


def value(row, key):
    try:
        v = float(row.get(key, "nan"))
    except ValueError:
        return math.nan
    return v


def bars(ax, rows, unit):
    import numpy as np
    x = np.arange(len(rows))
    shown = [(m, label) for m, label in METHODS if any(value(r, f"{m}_{unit}") == value(r, f"{m}_{unit}") for r in rows)]
    width = 0.8 / max(1, len(shown))
    # One colour a method in every panel (its place in METHODS), whichever methods a panel shows.
    colours = {m: f"C{i}" for i, (m, _) in enumerate(METHODS)}
    for i, (m, label) in enumerate(shown):
        ax.bar(x + (i - (len(shown) - 1) / 2) * width, [value(r, f"{m}_{unit}") for r in rows], width, label=label,
               color=colours[m])
    ax.set_xticks(x)
    ax.set_xticklabels([r["row"] for r in rows], rotation=60, ha="right", fontsize=7)
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("csv")
    p.add_argument("png")
    p.add_argument("--title", default=None, help="default: the device and versions from attention.json beside the CSV")
    args = p.parse_args()
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(open(args.csv)))
    title = args.title
    env_path = os.path.join(os.path.dirname(os.path.abspath(args.csv)), "attention.json")
    if title is None and os.path.exists(env_path):
        e = json.load(open(env_path))["environment"]
        title = (f"Attention forward, {e['dtype']}: {e['device']}, driver {e['driver']}, CUDA {e['cuda']}, "
                 f"cuDNN {e['cudnn']}, torch {e['torch']}, triton {e['triton']}, {e['date'][:10]}")
    compute = [r for r in rows if r["kind"] != "decode"]
    decode = [r for r in rows if r["kind"] == "decode"]
    fig, axes = plt.subplots(3, 1, figsize=(max(10, 0.45 * len(compute) + 3), 13),
                             gridspec_kw={"height_ratios": [3, 2, 2]})
    bars(axes[0], compute, "tflops")
    axes[0].set_ylabel("TFLOP/s")
    axes[0].set_title(title or "Attention forward", fontsize=9)
    import numpy as np
    x = np.arange(len(compute))
    lowest = 0.9
    for key, label in (("tritonpack_vs_sdpa_cudnn", "tritonpack (portable) / SDPA cuDNN"),
                       ("tritonpack_vs_sdpa_flash", "tritonpack (portable) / SDPA flash"),
                       ("tritonpack_sm90_vs_sdpa_cudnn", "tritonpack sm_90 / SDPA cuDNN")):
        ys = [value(r, key) for r in compute]
        if any(y == y for y in ys):
            axes[1].plot(x, ys, marker="o", label=label)
            lowest = min([y for y in ys if y == y] + [lowest])
    axes[1].set_ylim(bottom=min(0.85, lowest - 0.05))
    axes[1].axhline(1.0, color="black", linewidth=0.8)
    axes[1].axhline(0.9, color="gray", linewidth=0.6, linestyle="--")
    axes[1].set_xticks(x)
    axes[1].set_xticklabels([r["row"] for r in compute], rotation=60, ha="right", fontsize=7)
    axes[1].set_ylabel("speed ratio")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=7, loc="upper right")
    if decode:
        bars(axes[2], decode, "gbps")
        axes[2].set_ylabel("GB/s (decode)")
    else:
        axes[2].set_visible(False)
    fig.tight_layout()
    fig.savefig(args.png, dpi=110)
    print(f"wrote {args.png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
