"""TFLOP/s per shape for the four methods of bench/matmul_tuning.py, as grouped bars (log axis),
and below them tuned's speed over each other method.

    python bench/plot_matmul_tuning.py DIR/matmul_tuning.csv OUT.png

Shapes on a categorical x axis in the CSV's order (a '*' marks shapes the tune step did not
measure: their config came from the bin lookup); a missing or failed value leaves its bar out and
a wrong result is marked with an 'x' under its group. The title names the GPU when
matmul_tuning.json lies beside the CSV. Needs matplotlib (no GPU, no torch).
"""

from __future__ import annotations

import csv
import json
import math
import os
import sys

METHODS = [  # CSV column prefix, legend label
    ("tuned", "tritonpack tuned"),
    ("first_config", "tritonpack first config"),
    ("triton_jit", "Triton JIT @autotune"),
    ("cublas", "torch.matmul (cuBLAS)"),
]
RATIOS = [  # CSV column, legend label: > 1 where tuned is faster
    ("tuned_vs_first_config", "tuned / first config"),
    ("tuned_vs_triton_jit", "tuned / Triton JIT"),
    ("tuned_vs_cublas", "tuned / cuBLAS"),
]


def number(text: str) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def read_rows(path: str) -> list[dict]:
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        raise SystemExit(f"{path}: no rows")
    missing = [f"{m}_tflops" for m, _ in METHODS if f"{m}_tflops" not in rows[0]]
    if missing or "shape" not in rows[0]:
        raise SystemExit(f"{path}: not a matmul_tuning.csv (missing columns: {', '.join(missing or ['shape'])})")
    return rows


def title(csv_path: str) -> str:
    text = "Matmul: tritonpack tuned vs first config vs Triton JIT vs cuBLAS"
    json_path = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "matmul_tuning.json")
    try:
        with open(json_path) as f:
            env = json.load(f)["environment"]
        text += f"\n{env['device']}, {env['dtype']}, torch {env['torch']}, triton {env['triton']}, {env['date'][:10]}"
    except (OSError, ValueError, KeyError):
        pass
    return text


def plot(rows: list[dict], png: str, heading: str):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    labels = [r["shape"] + ("" if r.get("tuned_shape", "True") == "True" else "*") for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True, figsize=(max(8.0, 0.9 * len(rows) + 2), 8),
                                      gridspec_kw={"height_ratios": [3, 2]})
    grouped_bars(top, rows, METHODS, "tflops")
    # TFLOP/s spans two orders of magnitude between 256^3 and 8192^3: a log axis shows both ends.
    top.set_yscale("log")
    top.set_ylabel("TFLOP/s (do_bench median, L2 flushed)")
    top.set_title(heading, fontsize=10)
    top.legend(fontsize=8)
    grouped_bars(bottom, rows, RATIOS, "")
    bottom.axhline(1.0, color="black", linewidth=0.8)
    # Against the first config the gain can be many times at small shapes: a log axis keeps the
    # ratios near 1 (against the JIT and cuBLAS) readable beside it.
    bottom.set_yscale("log", base=2)
    bottom.yaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
    bottom.set_ylabel("tuned TFLOP/s / other's")
    bottom.legend(fontsize=8)
    bottom.set_xticks(range(len(rows)))
    bottom.set_xticklabels(labels, rotation=35, ha="right")
    bottom.set_xlabel("M x N x K  (* not among the spec's [tuning] shapes)")
    fig.tight_layout()
    fig.savefig(png, dpi=120)
    plt.close(fig)


def grouped_bars(ax, rows, series, suffix):
    """One bar per (row, series): column f"{key}_{suffix}" (or key itself without a suffix); a
    missing value leaves the bar out, a method marked wrong gets a red x at its bar's foot."""
    width = 0.8 / len(series)
    for i, (key, legend) in enumerate(series):
        xs = [j + (i - (len(series) - 1) / 2) * width for j in range(len(rows))]
        values = [number(r.get(f"{key}_{suffix}" if suffix else key)) for r in rows]
        shown = [(x, v) for x, v in zip(xs, values) if math.isfinite(v) and v > 0]
        ax.bar([x for x, _ in shown], [v for _, v in shown], width, label=legend)
        for x, r in zip(xs, rows):
            if suffix and r.get(f"{key}_ok", "True") != "True":
                ax.plot(x, 0, marker="x", color="red", markersize=9, transform=ax.get_xaxis_transform(), clip_on=False)
    ax.grid(axis="y", alpha=0.3)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip().splitlines()[2].strip(), file=sys.stderr)
        return 2
    csv_path, png = argv
    plot(read_rows(csv_path), png, title(csv_path))
    print(f"wrote {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
