"""torch.export + AOTInductor of an attention block whose attention is a tritonpack op (docs/torch.md,
"torch.export and AOTInductor"). Needs a CUDA GPU (AOTInductor compiles the block's other kernels
for it) and the op library (TRITONPACK_TORCH_LIBRARY or an installed tritonpack).

    python examples/torch/export_aoti.py fmha.tpack out/  [--num-heads 8 --head-size 64 --batch-size 2
                                                           --seq-len 128 --dtype fp16]

Writes into out/:
  attention.pt2          the AOTInductor package (dynamic sequence length: S in [16, max-seq-len])
  cases/cases.txt        the cases aoti_run checks (two sequence lengths, neither the export's),
  cases/<case>.x.bin     fresh inputs, raw fp16/bf16 [batch, seq, hidden]
  cases/<case>.ref.bin   PyTorch SDPA in float64 with the same weights, raw float64
Then: build/examples/torch/aoti_run fmha.tpack out/attention.pt2 out/cases

The tolerance of each case is the attention tolerance used everywhere (docs/torch.md): 4x the error
PyTorch's own eager block (SDPA, same dtype) makes against the float64 reference, at least 1e-3.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from attention_model import AttentionBlock, sdpa_reference  # noqa: E402

import tritonpack  # noqa: E402

DTYPES = {"fp16": torch.float16, "bf16": torch.bfloat16}


def add_model_arguments(p: argparse.ArgumentParser):
    # Seed 01's arguments (build.py/run.py of its TensorRT attention plugin).
    p.add_argument("--num-heads", type=int, default=8)
    p.add_argument("--head-size", type=int, default=64, help="64 or 128 (the shipped kernel's variants)")
    p.add_argument("--batch-size", type=int, default=2)
    p.add_argument("--seq-len", type=int, default=128, help="the sequence length exported with (dynamic)")
    p.add_argument("--max-seq-len", type=int, default=4096)
    p.add_argument("--dtype", choices=sorted(DTYPES), default="fp16")
    p.add_argument("--seed", type=int, default=0)


def make_block(args) -> AttentionBlock:
    torch.manual_seed(args.seed)
    return AttentionBlock(args.num_heads, args.head_size, dtype=DTYPES[args.dtype], device="cuda").eval()


def example_input(args, seq_len: int, seed: int) -> torch.Tensor:
    g = torch.Generator(device="cuda").manual_seed(seed)
    return torch.randn(args.batch_size, seq_len, args.num_heads * args.head_size,
                       dtype=DTYPES[args.dtype], device="cuda", generator=g)


def export(block: AttentionBlock, args) -> torch.export.ExportedProgram:
    """torch.export with a dynamic sequence length; checks the graph calls the tritonpack op once."""
    S = torch.export.Dim("S", min=16, max=args.max_seq_len)
    ep = torch.export.export(block, (example_input(args, args.seq_len, 1),), dynamic_shapes=({1: S},), strict=False)
    calls = [n for n in ep.graph.nodes if n.op == "call_function" and str(n.target) == "tritonpack.tritonpack_fmha.default"]
    if len(calls) != 1:
        raise SystemExit(f"export_aoti: the exported graph calls tritonpack_fmha {len(calls)} times, expected 1:\n{ep.graph}")
    seq = calls[0].meta["val"].shape[2]
    if not isinstance(seq, torch.SymInt):
        raise SystemExit(f"export_aoti: the op's output has a static sequence length {seq}; expected the Dim S")
    return ep


def tolerance(block: AttentionBlock, x: torch.Tensor, ref: torch.Tensor) -> float:
    sdpa = AttentionBlock(block.num_heads, block.head_size, dtype=x.dtype, device=x.device, use_tritonpack=False)
    sdpa.load_state_dict(block.state_dict())
    with torch.no_grad():
        err = (sdpa(x).double() - ref).abs().max().item()
    return max(4 * err, 1e-3)


def write_raw(path: Path, t: torch.Tensor):
    """The tensor's bytes, row-major (numpy may be missing where torch is installed)."""
    t = t.cpu().contiguous()
    path.write_bytes(ctypes.string_at(t.data_ptr(), t.nbytes))


def write_cases(block: AttentionBlock, args, folder: Path, seq_lens=(77, 300)) -> list[str]:
    """Fresh inputs at sequence lengths other than the export's, with float64 SDPA references."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for i, seq in enumerate(seq_lens):
        name = f"s{seq}"
        x = example_input(args, seq, 100 + i)
        ref = sdpa_reference(block, x)
        write_raw(folder / f"{name}.x.bin", x)
        write_raw(folder / f"{name}.ref.bin", ref)
        lines.append(f"{name} {args.dtype} {args.batch_size} {seq} {args.num_heads * args.head_size} "
                     f"{tolerance(block, x, ref):.6e}")
    (folder / "cases.txt").write_text("\n".join(lines) + "\n")
    return lines


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("pack")
    p.add_argument("out", type=Path)
    add_model_arguments(p)
    args = p.parse_args(argv)
    if not torch.cuda.is_available():
        print("export_aoti: no CUDA GPU: AOTInductor compiles for one (nothing written)")
        return 77
    print("registered", tritonpack.load(args.pack))
    block = make_block(args)
    ep = export(block, args)
    print("exported: one tritonpack_fmha node, dynamic sequence length")
    args.out.mkdir(parents=True, exist_ok=True)
    pt2 = torch._inductor.aoti_compile_and_package(ep, package_path=os.fspath(args.out / "attention.pt2"))
    print("AOTInductor package:", pt2)
    for line in write_cases(block, args, args.out / "cases"):
        print("case", line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
