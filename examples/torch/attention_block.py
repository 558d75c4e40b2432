"""Seed 01's flow with tritonpack and PyTorch (docs/torch.md, "The attention block end to end"): an
attention block (q/k/v projections, causal attention, output projection) whose attention is
tritonpack's kernels/fmha, built and run with seed 01's arguments.

    python examples/torch/attention_block.py build [--num-heads 8 --head-size 64 --batch-size 2
                                                    --seq-len 128 --dtype fp16] [--out build/attention_block]
    python examples/torch/attention_block.py run   [same arguments] [--benchmark]

build: compiles the pack (tritonpack.compile of kernels/fmha/fmha.toml; needs Triton, no GPU; an
       existing out/fmha.tpack is reused), exports the block to ONNX (out/attention.onnx: the
       attention is one node TensorRT's parser builds tritonpack's plugin from; no GPU needed),
       torch.export + AOTInductor to out/attention.pt2 (needs a CUDA GPU) with cases for aoti_run.
run:   on a CUDA GPU, checks each mode against PyTorch SDPA in float64 with the same weights on fresh
       inputs and prints a table (max error, tolerance, time with --benchmark): PyTorch eager SDPA,
       tritonpack op eager, torch.compile(fullgraph=True), the AOTInductor C++ program (aoti_run),
       with the GPU, driver and versions.
Whatever cannot run here is printed as "skipped: <why>"; exit 0 when everything that ran passed.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))
import export_aoti  # noqa: E402
from attention_model import AttentionBlock, sdpa_reference  # noqa: E402

import tritonpack  # noqa: E402


def skipped(what, why):
    print(f"skipped: {what} ({why})")


def build(args) -> int:
    out = args.out
    out.mkdir(parents=True, exist_ok=True)
    pack = out / "fmha.tpack"
    if pack.is_file():
        print(f"pack: reusing {pack}")
    else:
        try:
            tritonpack.compile(ROOT / "kernels" / "fmha" / "fmha.toml", pack)
            print(f"pack: compiled {pack}")
        except Exception as e:  # no Triton, no CLI: nothing else can run
            skipped("compiling the pack and everything after it", f"{type(e).__name__}: {str(e).splitlines()[0]}")
            return 0
    print("registered", tritonpack.load(pack))

    # ONNX: traced with fake tensors on the CPU (the op's Meta kernel), so no GPU is needed.
    try:
        import onnx  # noqa: F401
        import onnxscript  # noqa: F401
        torch.manual_seed(args.seed)
        cpu_block = AttentionBlock(args.num_heads, args.head_size, dtype=export_aoti.DTYPES[args.dtype], device="cpu").eval()
        x = torch.randn(args.batch_size, args.seq_len, args.num_heads * args.head_size, dtype=cpu_block.qkv.weight.dtype)
        S = torch.export.Dim("S", min=16, max=args.max_seq_len)
        torch.onnx.export(cpu_block, (x,), out / "attention.onnx", dynamo=True, dynamic_shapes=({1: S},),
                          custom_translation_table=tritonpack.onnx_translations(), verbose=False)
        print(f"onnx: {out / 'attention.onnx'} (node tritonpack/tritonpack_fmha, attributes plugin_version, "
              "plugin_namespace, sm_scale)")
    except ImportError as e:
        skipped("the ONNX export", f"{e}; pip install onnx onnxscript")

    if not torch.cuda.is_available():
        skipped("torch.export + AOTInductor to attention.pt2", "no CUDA GPU: AOTInductor compiles the block for one")
        return 0
    block = export_aoti.make_block(args)
    ep = export_aoti.export(block, args)
    print("exported: one tritonpack_fmha node, dynamic sequence length")
    pt2 = torch._inductor.aoti_compile_and_package(ep, package_path=os.fspath(out / "attention.pt2"))
    print(f"AOTInductor: {pt2}")
    export_aoti.write_cases(block, args, out / "cases")
    return 0


def versions() -> str:
    import importlib.metadata as md
    try:
        triton = md.version("triton")
    except md.PackageNotFoundError:
        triton = "not installed"
    driver = "?"
    if shutil.which("nvidia-smi"):
        r = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                           capture_output=True, text=True)
        driver = r.stdout.strip().splitlines()[0] if r.returncode == 0 and r.stdout.strip() else "?"
    return (f"GPU {torch.cuda.get_device_name()} (sm_{''.join(map(str, torch.cuda.get_device_capability()))}), "
            f"driver {driver}, CUDA {torch.version.cuda}\n"
            f"torch {torch.__version__}, triton {triton}, tritonpack {tritonpack.__version__}, "
            f"Python {sys.version.split()[0]}")


def timed_ms(fn, iterations=50) -> float:
    fn()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iterations):
        fn()
    end.record()
    end.synchronize()
    return start.elapsed_time(end) / iterations


def run(args) -> int:
    if not torch.cuda.is_available():
        skipped("run (every mode)", "no CUDA GPU")
        return 0
    out = args.out
    pack = out / "fmha.tpack"
    if not pack.is_file():
        print(f"run: no {pack}; run `build` first")
        return 1
    tritonpack.load(pack)
    print(versions())
    block = export_aoti.make_block(args)
    sdpa = AttentionBlock(args.num_heads, args.head_size, dtype=block.qkv.weight.dtype, device="cuda", use_tritonpack=False)
    sdpa.load_state_dict(block.state_dict())
    x = export_aoti.example_input(args, args.seq_len, 7)
    ref = sdpa_reference(block, x)
    tol = export_aoti.tolerance(block, x, ref)
    torch._dynamo.reset()
    compiled = torch.compile(block, fullgraph=True)
    rows, ok = [], True

    def check(mode, fn):
        nonlocal ok
        with torch.no_grad():
            y = fn()
            err = (y.double() - ref).abs().max().item() if y.shape == ref.shape else float("inf")
            finite = bool(torch.isfinite(y).all())
            ms = timed_ms(fn) if args.benchmark else None
        passed = finite and err <= tol
        ok = ok and passed
        rows.append((mode, err, ms, "PASSED" if passed else "FAILED"))

    check("PyTorch eager SDPA", lambda: sdpa(x))
    check("tritonpack op, eager", lambda: block(x))
    check("torch.compile(fullgraph=True)", lambda: compiled(x))

    aoti_run = Path(args.aoti_run) if args.aoti_run else None
    pt2 = out / "attention.pt2"
    if not pt2.is_file():
        rows.append(("AOTInductor C++ (aoti_run)", None, None, f"skipped: no {pt2} (build)"))
    elif aoti_run is None or not aoti_run.is_file():
        rows.append(("AOTInductor C++ (aoti_run)", None, None,
                     f"skipped: no aoti_run program ({aoti_run}; --aoti-run or TRITONPACK_AOTI_RUN)"))
    else:
        cases = out / "run-cases"
        shutil.rmtree(cases, ignore_errors=True)
        export_aoti.write_cases(block, args, cases, seq_lens=(args.seq_len,))
        r = subprocess.run([str(aoti_run), str(pack), str(pt2), str(cases), "--iterations", "50"],
                           capture_output=True, text=True)
        (out / "aoti_run.log").write_text(r.stdout + r.stderr)
        m = re.search(r"^s\d+\s+\S+\s+\d+\s+\d+\s+\d+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\w+)", r.stdout, re.M)
        no_python = "no Python in the process" in r.stdout
        if r.returncode == 0 and m and no_python:
            rows.append(("AOTInductor C++ (aoti_run)", float(m.group(1)),
                         float(m.group(3)) if args.benchmark else None, "PASSED (no Python in the process)"))
        else:
            ok = False
            rows.append(("AOTInductor C++ (aoti_run)", float(m.group(1)) if m else None, None,
                         f"FAILED (exit {r.returncode}; see {out / 'aoti_run.log'})"))

    print(f"\nattention block: batch {args.batch_size}, seq {args.seq_len}, heads {args.num_heads}, "
          f"head size {args.head_size}, {args.dtype}; reference SDPA float64; tolerance {tol:.3e}")
    print(f"{'mode':<32} {'max error':>11} {'ms':>9}  result")
    for mode, err, ms, result in rows:
        print(f"{mode:<32} {'-' if err is None else f'{err:.3e}':>11} {'-' if ms is None else f'{ms:.4f}':>9}  {result}")
    return 0 if ok else 1


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="seed 01's attention flow with tritonpack and PyTorch")
    p.add_argument("command", choices=["build", "run"])
    export_aoti.add_model_arguments(p)
    p.add_argument("--out", type=Path, default=ROOT / "build" / "attention_block")
    p.add_argument("--benchmark", action="store_true", help="time each mode (run)")
    p.add_argument("--aoti-run", default=os.environ.get("TRITONPACK_AOTI_RUN") or
                   str(ROOT / "build" / "examples" / "torch" / "aoti_run"))
    args = p.parse_args(argv)
    start = time.time()
    rc = build(args) if args.command == "build" else run(args)
    print(f"{args.command}: {time.time() - start:.1f} s, exit {rc}")
    return rc


if __name__ == "__main__":
    sys.exit(main())
