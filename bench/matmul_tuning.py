"""Matmul with ahead-of-time tuning: tritonpack tuned against tritonpack first-config, Triton's JIT
@triton.autotune and torch.matmul (cuBLAS), in one run on one GPU.

    python bench/matmul_tuning.py --lib build/libtritonpack_runtime.so --tuned matmul_tuned.tpack \\
        --out DIR [--shapes 4096 1000x4000x2000 ...] [--dtype fp16] [--dry-run]
    python bench/matmul_tuning.py --list-shapes      # SHAPES, one MxNxK a line, for the tune step

The kernel is kernels/matmul (C = A @ B, row-major, fp32 accumulation). Methods, same inputs:
  tuned         the pack's tuning table picks the config for the launch's shape bin
                (tp_kernel_launch with default options)
  first_config  the first config in spec order that accepts the launch, as packs ran before tuning
                (tp_launch_options.ignore_tuning = 1)
  triton_jit    kernels/matmul/matmul.py's @triton.autotune kernel, the same 8 configs, tuned by
                Triton on its first call for each shape (outside the timing)
  cublas        torch.matmul(A, B, out=C)

Each method is first checked: C (with guard elements after it) is filled with NaN, the method runs
once, and C must match an fp32 reference (TF32 off) within a normwise relative error of the dtype's
tolerance + K * 2^-24 (as `tritonpack run`'s matmul reference), with every element written and the
guard untouched. A wrong method is reported at once on stderr, its row is marked, and the script
exits 1 at the end. Then each is timed with triton.testing.do_bench (L2 flushed before every run,
CUDA events, median) with the same warmup and rep for all, in --rounds rounds with the methods in a
fresh random order each round (seeded by --seed); the median over the rounds is reported. Not a
rotation: in a rotation each method always follows the same one, and a method timed right after
cuBLAS (the hottest, most power-hungry kernel) ran up to 4% slower on an H200 than the identical
kernel timed after a cool one.

The tritonpack configs come from tp_kernel_explain on the launch's own arguments (the "chosen" line);
the JIT's from the autotuner's best_config, with its measured time for every config (JSON).

Writes matmul_tuning.csv and matmul_tuning.json to --out and prints a table. --dry-run needs no GPU
and no torch: it prints the plan and, given --lib and --tuned, the variant and config each tritonpack
method would choose on an sm_90 GPU (which also checks the ctypes structs against the library).
bench/plot_matmul_tuning.py draws the CSV.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import json
import math
import statistics
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_FILE = os.path.join(HERE, "..", "kernels", "matmul", "matmul.py")
sys.path.insert(0, HERE)
import tritonpack_capi as capi  # noqa: E402

# (M, N, K) the tune step measures: square powers of two, and skinny products (few rows, a thin
# inner dim, few columns). Importing this module needs neither torch nor Triton.
SHAPES = [
    (256, 256, 256), (512, 512, 512), (1024, 1024, 1024), (2048, 2048, 2048), (4096, 4096, 4096),
    (8192, 8192, 8192),
    (16, 8192, 8192), (64, 8192, 8192), (8192, 8192, 64), (8192, 64, 8192),
    (1000, 1000, 1000), (3000, 3000, 3000), (5000, 5000, 5000),
]
# Shapes no tune run measures: the runtime must find their entry from the tuned ones. 2500 is not a
# multiple of 16 (its launches take the variants compiled without the N % 16 and K % 16 hints: the
# spec's fourth key tells those apart) and falls in the bins of the tuned 3000; 1000x4000x2000 and
# 4096x11008x4096 (a LLaMA MLP projection) fall in bins no tune run measured (the nearest entry).
CHECK_SHAPES = [(2500, 2500, 2500), (1000, 4000, 2000), (4096, 11008, 4096)]

METHODS = ["tuned", "first_config", "triton_jit", "cublas"]
KERNEL_ARGS = ["A", "B", "C", "M", "N", "K"]  # the spec's runtime arguments, in order
TOLERANCE = {"fp16": 2e-3, "bf16": 1.6e-2}   # the dtype's, as src/harness/references.cpp
GUARD = 4096                                  # NaN elements after C that no method may write
PLACEHOLDER = 1 << 20                         # dry run: pointers 1 MiB apart, as `tritonpack run --explain`


def shape_text(shape) -> str:
    return "x".join(str(d) for d in shape)


def parse_shapes(items) -> list[tuple[int, int, int]]:
    """'4096' (square), '1000x4000x2000', 'tuned' (SHAPES), 'check' (CHECK_SHAPES), 'all'; commas allowed."""
    shapes = []
    for item in ",".join(items).split(","):
        item = item.strip().lower()
        if not item:
            continue
        if item in ("all", "tuned", "check"):
            shapes += (SHAPES if item != "check" else []) + (CHECK_SHAPES if item != "tuned" else [])
            continue
        dims = item.split("x")
        if len(dims) == 1:
            dims *= 3
        if len(dims) != 3 or not all(d.isdigit() and int(d) > 0 for d in dims):
            raise argparse.ArgumentTypeError(f"shape '{item}': give N (square) or MxNxK with positive sizes")
        shapes.append(tuple(int(d) for d in dims))
    return shapes


def matmul_arguments(kernel_dtype: str, a: int, b: int, c: int, M: int, N: int, K: int) -> capi.Arguments:
    """A, B, C with their shapes (so the spec's dims are checked), then M, N, K."""
    args = capi.Arguments(len(KERNEL_ARGS))
    args.tensor(0, a, kernel_dtype, (M, K))
    args.tensor(1, b, kernel_dtype, (K, N))
    args.tensor(2, c, kernel_dtype, (M, N))
    for i, v in enumerate((M, N, K), start=3):
        args.integer(i, v)
    return args


def open_kernel(lib_path: str, pack_path: str, name: str):
    lib = capi.Library(lib_path)
    pack = lib.open(pack_path)
    kernel = pack.kernel(name)
    pack.close()  # the kernel keeps the pack alive
    names = kernel.arg_names()
    if names != KERNEL_ARGS:
        raise SystemExit(f"kernel '{name}' of {pack_path} takes {names}; this benchmark passes {KERNEL_ARGS}")
    return lib, kernel


def tritonpack_choices(kernel, args: capi.Arguments, arch: int) -> dict:
    """The variant and config each tritonpack method would run for these arguments."""
    out = {}
    for method, opts in (("tuned", capi.options()), ("first_config", capi.options(ignore_tuning=True))):
        variant, text = kernel.explain(args, opts, arch)
        out[method] = (variant, capi.chosen_config(text) if variant >= 0 else "none")
    return out


def dry_run(args, shapes) -> int:
    print(f"plan: {len(shapes)} shapes x {len(METHODS)} methods ({', '.join(METHODS)}), dtype {args.dtype}")
    print(f"  do_bench(warmup={args.warmup}, rep={args.rep}, return_mode='median'); output to {args.out or '(no --out)'}")
    kernel = None
    if args.lib and args.tuned:
        lib, kernel = open_kernel(args.lib, args.tuned, args.kernel)
        print(f"  library {args.lib} (tritonpack {lib.version()}), pack {args.tuned}: kernel '{args.kernel}' "
              f"takes {', '.join(KERNEL_ARGS)}; choices on an sm_90 GPU (tp_kernel_explain):")
    for shape in shapes:
        line = f"  {shape_text(shape):>16}  {'tuned shape' if shape in SHAPES else 'bin check'}"
        if kernel is not None:
            M, N, K = shape
            a, b, c = PLACEHOLDER, 2 * PLACEHOLDER, 3 * PLACEHOLDER
            choices = tritonpack_choices(kernel, matmul_arguments(args.dtype, a, b, c, M, N, K), 90)
            line += "  " if shape in SHAPES else "    "
            line += "  ".join(f"{m}: variant {v} ({cfg})" for m, (v, cfg) in choices.items())
        print(line)
    if kernel is not None:
        kernel.close()
    return 0


class Bench:
    """One GPU run: the methods for each shape, checked then timed."""

    def __init__(self, args):
        import torch
        import triton
        from triton.testing import do_bench

        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device (use --dry-run to check the plan without one)")
        self.torch, self.triton, self.do_bench, self.args = torch, triton, do_bench, args
        # The reference is true fp32; cuBLAS's fp16 settings stay torch's defaults (what users get).
        torch.backends.cuda.matmul.allow_tf32 = False
        self.dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
        self.lib, self.kernel = open_kernel(args.lib, args.tuned, args.kernel)
        spec = importlib.util.spec_from_file_location("tritonpack_shipped_matmul", KERNEL_FILE)
        self.jit_module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(self.jit_module)
        self.failures = []

    def jit_config_name(self, config) -> str:
        kw = config.kwargs
        name = f"m{kw['BLOCK_M']}n{kw['BLOCK_N']}k{kw['BLOCK_K']}"
        tile = (kw["BLOCK_M"], kw["BLOCK_N"], kw["BLOCK_K"], config.num_stages, config.num_warps)
        return name if tile in self.jit_module.TILE_CONFIGS else f"{name}s{config.num_stages}w{config.num_warps}"

    def methods(self, a, b, c, M, N, K):
        """(the tritonpack arguments, {method: a function that computes C = A @ B into c})."""
        torch, stream = self.torch, self.torch.cuda.current_stream().cuda_stream
        args = matmul_arguments(self.args.dtype, a.data_ptr(), b.data_ptr(), c.data_ptr(), M, N, K)
        tuned, first = capi.options(), capi.options(ignore_tuning=True)
        jit = self.jit_module.matmul_kernel
        cdiv = self.triton.cdiv

        def grid(meta):
            return (cdiv(M, meta["BLOCK_M"]) * cdiv(N, meta["BLOCK_N"]),)

        return args, {
            "tuned": lambda: self.kernel.launch(args, stream, tuned),
            "first_config": lambda: self.kernel.launch(args, stream, first),
            "triton_jit": lambda: jit[grid](a, b, c, M, N, K),
            "cublas": lambda: torch.matmul(a, b, out=c),
        }

    def check(self, fn, c, c_buffer, reference, K) -> tuple[float, str]:
        """(normwise relative error, problem or ""), after one run into a NaN-filled C."""
        torch = self.torch
        c_buffer.fill_(float("nan"))
        fn()
        torch.cuda.synchronize()
        guard = c_buffer[c.numel():]
        if not bool(torch.isnan(guard).all()):
            return math.nan, f"wrote {int((~torch.isnan(guard)).sum())} guard elements past the end of C"
        bad = int((~torch.isfinite(c)).sum())
        if bad:
            return math.nan, f"{bad} elements of C not written or not finite"
        diff = torch.linalg.vector_norm(c.float() - reference, dtype=torch.float64)
        norm = torch.linalg.vector_norm(reference, dtype=torch.float64)
        error = float(diff / max(float(norm), 1e-300))
        tolerance = TOLERANCE[self.args.dtype] + K * 2.0 ** -24
        return error, "" if error <= tolerance else f"relative error {error:.3g} > {tolerance:.3g}"

    def shape_row(self, index, shape) -> dict:
        torch, (M, N, K) = self.torch, shape
        torch.cuda.empty_cache()  # the previous shape's buffers
        # torch's first allocation makes the device's primary context current on this thread; the
        # tritonpack calls below (explain for arch 0, launch) run in it, on torch's current stream.
        generator = torch.Generator(device="cuda").manual_seed(self.args.seed + index)
        a = torch.randn((M, K), device="cuda", dtype=self.dtype, generator=generator)
        b = torch.randn((K, N), device="cuda", dtype=self.dtype, generator=generator)
        reference = torch.matmul(a.float(), b.float())
        c_buffer = torch.empty(M * N + GUARD, device="cuda", dtype=self.dtype)
        c = c_buffer[:M * N].view(M, N)
        args, fns = self.methods(a, b, c, M, N, K)
        row = {"shape": shape_text(shape), "M": M, "N": N, "K": K, "dtype": self.args.dtype,
               "tuned_shape": shape in SHAPES}
        try:
            choices = tritonpack_choices(self.kernel, args, 0)
        except capi.TritonpackError as e:  # the launches below fail the same way, and say so
            choices = {m: (-1, f"error: {e}") for m in ("tuned", "first_config")}
        for method, (variant, config) in choices.items():
            row[f"variant_{method}"], row[f"config_{method}"] = variant, config
        row["config_triton_jit"] = ""
        problems = []
        flops = 2.0 * M * N * K
        checked = {}  # method -> fn, for those that ran and agreed with the reference
        for method, fn in fns.items():
            error = math.nan
            try:
                if method == "triton_jit":
                    fn()  # Triton tunes on the first call for this key; not timed
                    torch.cuda.synchronize()
                    jit = self.jit_module.matmul_kernel
                    row["config_triton_jit"] = self.jit_config_name(jit.best_config)
                    row["jit_config_ms"] = {self.jit_config_name(cfg): t[0] if isinstance(t, (list, tuple)) else t
                                            for cfg, t in getattr(jit, "configs_timings", {}).items()}
                error, problem = self.check(fn, c, c_buffer, reference, K)
            except Exception as e:  # a refused launch, a compile failure: reported, the run goes on
                problem = f"{type(e).__name__}: {e}"
            if problem:
                problems.append(f"{method}: {problem}")
                print(f"WRONG: {method} at {row['shape']}: {problem}", file=sys.stderr, flush=True)
            else:
                checked[method] = fn
            row[f"{method}_rel_error"] = error
            row[f"{method}_ok"] = not problem
        # Timed in rounds, the methods in a fresh random order each round, so that clock and
        # thermal drift, and the heat the previous method left, fall on every method alike; the
        # median over the rounds is kept.
        times = {method: [] for method in checked}
        order = random.Random(self.args.seed * 1000003 + index)
        for _ in range(self.args.rounds):
            names = list(checked)
            order.shuffle(names)
            for method in names:
                times[method].append(self.do_bench(checked[method], warmup=self.args.warmup, rep=self.args.rep,
                                                   return_mode="median"))
        for method in fns:
            ms = statistics.median(times[method]) if times.get(method) else math.nan
            row[f"{method}_ms"] = ms
            row[f"{method}_tflops"] = flops / (ms * 1e-3) / 1e12 if ms == ms else math.nan
        for other in ("triton_jit", "first_config", "cublas"):  # > 1: tuned is faster
            row[f"tuned_vs_{other}"] = row["tuned_tflops"] / row[f"{other}_tflops"]
        row["status"] = "ok" if not problems else "WRONG " + "; ".join(problems)
        self.failures += [f"{row['shape']}: {p}" for p in problems]
        return row

    def environment(self) -> dict:
        torch = self.torch
        props = torch.cuda.get_device_properties(torch.cuda.current_device())
        try:
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader", "-i",
                                     str(torch.cuda.current_device())], capture_output=True, text=True,
                                    timeout=30).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            driver = ""
        return {
            "device": torch.cuda.get_device_name(), "capability": f"sm_{props.major}{props.minor}",
            "driver": driver, "cuda": torch.version.cuda, "torch": torch.__version__,
            "triton": self.triton.__version__, "tritonpack": self.lib.version(), "python": sys.version.split()[0],
            "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "lib": os.path.abspath(self.args.lib), "pack": os.path.abspath(self.args.tuned), "kernel": self.args.kernel,
            "dtype": self.args.dtype, "seed": self.args.seed,
            "do_bench": {"warmup_ms": self.args.warmup, "rep_ms": self.args.rep, "return_mode": "median",
                         "rounds": self.args.rounds, "order": "random per round; median over rounds"},
            "allow_tf32": torch.backends.cuda.matmul.allow_tf32,
            "allow_fp16_reduced_precision_reduction": torch.backends.cuda.matmul.allow_fp16_reduced_precision_reduction,
        }


CSV_FIELDS = (["shape", "M", "N", "K", "dtype", "tuned_shape"]
              + [f"{m}_{what}" for what in ("tflops", "ms") for m in METHODS]
              + ["tuned_vs_triton_jit", "tuned_vs_first_config", "tuned_vs_cublas",
                 "config_tuned", "variant_tuned", "config_first_config", "variant_first_config", "config_triton_jit"]
              + [f"{m}_{what}" for what in ("rel_error", "ok") for m in METHODS]
              + ["status"])


def print_table(env, rows):
    print(f"\n{env['device']} ({env['capability']}), torch {env['torch']}, triton {env['triton']}, "
          f"tritonpack {env['tritonpack']}, {env['dtype']}; TFLOP/s (do_bench median, L2 flushed)")
    head = (f"{'M x N x K':>16} {'tuned':>7} {'first':>7} {'jit':>7} {'cublas':>7} {'t/jit':>6} {'t/first':>7} "
            f"{'t/cublas':>8}  {'tuned cfg':12} {'first cfg':12} {'jit cfg':12} status")
    print(head)
    for r in rows:
        mark = "" if r["tuned_shape"] else " *"
        print(f"{r['shape'] + mark:>16} {r['tuned_tflops']:7.1f} {r['first_config_tflops']:7.1f} "
              f"{r['triton_jit_tflops']:7.1f} {r['cublas_tflops']:7.1f} {r['tuned_vs_triton_jit']:6.2f} "
              f"{r['tuned_vs_first_config']:7.2f} {r['tuned_vs_cublas']:8.2f}  {r['config_tuned']:12} "
              f"{r['config_first_config']:12} {r['config_triton_jit']:12} {r['status']}")
    print("* not among the spec's [tuning] shapes (SHAPES): measured only if `tune --shape` added it, else its "
          "config is the nearest measured entry's. Ratios: tuned TFLOP/s over the other's.")


def write_outputs(out_dir, env, rows, failures):
    os.makedirs(out_dir, exist_ok=True)
    with open(os.path.join(out_dir, "matmul_tuning.csv"), "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in r.items()})

    def clean(value):  # JSON has no NaN
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        return value

    with open(os.path.join(out_dir, "matmul_tuning.json"), "w") as f:
        json.dump({"environment": env, "methods": METHODS, "shapes_tuned": [shape_text(s) for s in SHAPES],
                   "rows": [clean(r) for r in rows], "failures": failures}, f, indent=1)
        f.write("\n")


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--lib", help="libtritonpack_runtime.so")
    p.add_argument("--tuned", help="the matmul pack, tuned by `tritonpack tune`")
    p.add_argument("--out", help="folder for matmul_tuning.csv and matmul_tuning.json")
    p.add_argument("--shapes", nargs="+", default=["all"],
                   help="N (square), MxNxK, 'tuned' (SHAPES), 'check' (CHECK_SHAPES) or 'all' (default)")
    p.add_argument("--dtype", choices=sorted(TOLERANCE), default="fp16")
    p.add_argument("--kernel", default="matmul", help="the kernel's name in the pack")
    p.add_argument("--warmup", type=int, default=25, help="do_bench warmup, ms")
    p.add_argument("--rep", type=int, default=50, help="do_bench repetition time per round, ms")
    p.add_argument("--rounds", type=int, default=5,
                   help="timing rounds, methods in a random order each round; the median over rounds is reported")
    p.add_argument("--seed", type=int, default=None, help="input seed (default: a fresh one, printed)")
    p.add_argument("--dry-run", action="store_true", help="print the plan (and tritonpack's choices) without a GPU")
    p.add_argument("--list-shapes", action="store_true", help="print SHAPES, one MxNxK a line, and exit")
    args = p.parse_args(argv)
    try:
        args.shape_list = parse_shapes(args.shapes)
    except argparse.ArgumentTypeError as e:
        p.error(str(e))
    if not args.list_shapes and not args.dry_run and not (args.lib and args.tuned and args.out):
        p.error("--lib, --tuned and --out are required (except with --dry-run or --list-shapes)")
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "little")
    return args


def main(argv=None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.list_shapes:
        print("\n".join(shape_text(s) for s in SHAPES))
        return 0
    if args.dry_run:
        return dry_run(args, args.shape_list)
    bench = Bench(args)
    env = bench.environment()
    print(f"{env['device']}: {len(args.shape_list)} shapes, seed {args.seed}", flush=True)
    rows = []
    for index, shape in enumerate(args.shape_list):
        rows.append(bench.shape_row(index, shape))
        r = rows[-1]
        print(f"  {r['shape']}: " + ", ".join(f"{m} {r[f'{m}_tflops']:.1f}" for m in METHODS) + " TFLOP/s", flush=True)
    bench.kernel.close()
    print_table(env, rows)
    write_outputs(args.out, env, rows, bench.failures)
    print(f"wrote {os.path.join(args.out, 'matmul_tuning.csv')} and matmul_tuning.json")
    if bench.failures:
        print(f"FAILED: {len(bench.failures)} wrong results:\n  " + "\n  ".join(bench.failures), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
