"""Numerical check of the test kernels in tests/kernels/ and of the shipped kernels/matmul on the
CPU, with Triton's interpreter.

Run: python3 tests/python/kernels_interpreter_check.py

The GPU tests (tests/gpu/kernels_test.cpp) check these kernels against the C++ references on a
GPU; this script checks, without one, that each kernel computes what its docstring says: matmul
(both ACTIVATION values, transposed and padded strides, ragged M, N, K), layernorm (every
BLOCK_SIZE of its spec, rows shorter and longer than the block), softmax_h (the heuristic's block),
desc_matmul (host TensorDescriptors) and the shipped matmul (every config of its spec at ragged and
multiple-of-16 sizes; its @triton.autotune configs equal to the spec's [[configs]], in order). Outputs start as NaN with a guard region after them;
untouched elements must stay NaN and the guard must stay intact. Gluon kernels are not covered:
the interpreter does not run them.

Needs numpy and Triton (not torch). Exits 0 when every case passes, 1 on a mismatch, 77
(skipped) without numpy or Triton.
"""

from __future__ import annotations

import importlib.util
import os
import sys

SKIP_EXIT_CODE = 77
os.environ["TRITON_INTERPRET"] = "1"  # before Triton is imported

HERE = os.path.dirname(os.path.abspath(__file__))
KERNELS = os.path.join(HERE, "..", "kernels")
SHIPPED = os.path.join(HERE, "..", "..", "kernels")
GUARD = 64


def _load(name, folder=KERNELS, prefix="tritonpack_test"):
    spec = importlib.util.spec_from_file_location(f"{prefix}_{name}", os.path.join(folder, name, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Buffers:
    """Host buffers that the interpreter takes as pointers (fmha_interpreter_check's _HostTensor)."""

    def __init__(self, np, tl, host_tensor, to_bf16, from_bf16):
        self.np, self.tl, self.host_tensor = np, tl, host_tensor
        self.to_bf16, self.from_bf16 = to_bf16, from_bf16

    def storage(self, dtype, values):
        """values (float64, 1-D) stored in dtype, plus a NaN guard; returns (tensor, exact values)."""
        np, tl = self.np, self.tl
        padded = np.concatenate([values, np.full(GUARD, np.nan)])
        if dtype == "bf16":
            bits = self.to_bf16(np, padded)
            return self.host_tensor(bits, tl.bfloat16), self.from_bf16(np, bits[: len(values)]).astype(np.float64)
        np_dtype = {"fp16": np.float16, "fp32": np.float32}[dtype]
        array = padded.astype(np_dtype)
        return self.host_tensor(array, {"fp16": tl.float16, "fp32": tl.float32}[dtype]), array[: len(values)].astype(np.float64)

    def read(self, tensor, dtype, count):
        """(the first count values, whether the guard after them is still NaN)."""
        np = self.np
        data = tensor.array
        values = self.from_bf16(np, data).astype(np.float64) if dtype == "bf16" else data.astype(np.float64)
        return values[:count], bool(np.all(np.isnan(values[count:count + GUARD])))


def relative_error(np, got, want):
    return float(np.linalg.norm(got - want) / max(np.linalg.norm(want), 1e-300))


def check(problems, label, np, got, want, written, guard_ok, tol):
    """got/want over a buffer; `written` marks the elements the kernel must write."""
    if not guard_ok:
        problems.append(f"{label}: wrote past the end of the buffer")
    if np.any(~np.isnan(got[~written])):
        problems.append(f"{label}: wrote {int(np.sum(~np.isnan(got[~written])))} elements it must not touch")
    if not np.all(np.isfinite(got[written])):
        problems.append(f"{label}: {int(np.sum(~np.isfinite(got[written])))} elements not written")
        return
    err = relative_error(np, got[written], want[written])
    if err > tol:
        problems.append(f"{label}: relative error {err:.3g} > {tol:g}")


TOL = {"fp32": 1e-5, "fp16": 2e-3, "bf16": 1.6e-2}


def matmul_cases(np, buf, module, rng):
    kernel = module.matmul_kernel.fn  # the @triton.jit function under @triton.autotune
    cases = [  # dtype, M, N, K, layout of A, activation, (BM, BN, BK)
        ("fp16", 1, 1, 1, "row", "", (32, 64, 32)),
        ("fp16", 70, 45, 33, "row", "leaky_relu", (32, 64, 32)),
        ("bf16", 129, 130, 100, "col", "leaky_relu", (64, 128, 32)),
        ("fp16", 200, 70, 150, "padded", "", (128, 128, 64)),
        ("bf16", 33, 17, 0, "row", "", (32, 64, 32)),
    ]
    problems = []
    for dtype, M, N, K, layout, act, (bm, bn, bk) in cases:
        if layout == "row":
            sa = (K, 1)
        elif layout == "col":
            sa = (1, M)
        else:
            sa = (K + 5, 1)
        a_numel = max(M * sa[0], K * sa[1])
        a_t, a_flat = buf.storage(dtype, rng.uniform(-1, 1, a_numel))
        b_t, b_flat = buf.storage(dtype, rng.uniform(-1, 1, K * N))
        ldc = N + 3
        c_t, _ = buf.storage(dtype, np.full(M * ldc, np.nan))
        grid = (-(-M // bm) * -(-N // bn), 1, 1)
        kernel[grid](a_t, b_t, c_t, M, N, K, sa[0], sa[1], N, 1, ldc, 1,
                     BLOCK_SIZE_M=bm, BLOCK_SIZE_N=bn, BLOCK_SIZE_K=bk, GROUP_SIZE_M=8, ACTIVATION=act)
        a = np.array([[a_flat[i * sa[0] + k * sa[1]] for k in range(K)] for i in range(M)]).reshape(M, K)
        b = b_flat.reshape(K, N)
        ref = a @ b
        if act == "leaky_relu":
            ref = np.where(ref >= 0, ref, 0.01 * ref)
        want = np.full(M * ldc, np.nan)
        written = np.zeros(M * ldc, dtype=bool)
        for i in range(M):
            want[i * ldc:i * ldc + N] = ref[i]
            written[i * ldc:i * ldc + N] = True
        got, guard_ok = buf.read(c_t, dtype, M * ldc)
        label = f"matmul {dtype} {M}x{N}x{K} A {layout} ACTIVATION={act!r} block {bm}x{bn}x{bk}"
        if K == 0:  # C = act(0) = 0 exactly
            want[written] = 0.0
        found = []
        check(found, label, np, got, want, written, guard_ok, TOL[dtype] if K else 0.0)
        print(("FAIL " if found else "ok   ") + label)
        problems += found
    return problems


def shipped_matmul_configs_problems(module):
    """kernels/matmul: the @triton.autotune configs must be the spec's [[configs]], in order, so
    that Triton's autotuner and tritonpack's tuning choose from the same set."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        print("skip shipped matmul: configs against matmul.toml (tomllib needs Python 3.11)")
        return []
    with open(os.path.join(SHIPPED, "matmul", "matmul.toml"), "rb") as f:
        spec = tomllib.load(f)
    autotuner = module.matmul_kernel
    got = [(dict(c.kwargs), c.num_warps, c.num_stages, c.num_ctas) for c in autotuner.configs]
    want = [(c["constexprs"], c.get("num_warps", 4), c.get("num_stages", 3), c.get("num_ctas", 1))
            for c in spec["configs"]]
    problems = []
    if got != want:
        problems.append(f"shipped matmul: @triton.autotune configs {got} differ from matmul.toml's {want}")
    if list(autotuner.keys) != ["M", "N", "K"]:
        problems.append(f"shipped matmul: autotune key {autotuner.keys}, expected ['M', 'N', 'K']")
    print(("FAIL " if problems else "ok   ") + f"shipped matmul: {len(got)} autotune configs equal matmul.toml's")
    return problems


def shipped_matmul_cases(np, buf, module, rng):
    """kernels/matmul: contiguous row-major A, B, C; every config once, at sizes that leave partial
    tiles on M, N and K, at multiples of 16, with K = 0, and with more block rows than one group."""
    kernel = module.matmul_kernel.fn  # the @triton.jit function under @triton.autotune
    cases = [  # dtype, M, N, K; config i runs case i
        ("fp16", 130, 260, 70),
        ("bf16", 65, 257, 64),
        ("fp16", 256, 128, 48),
        ("bf16", 1, 1, 1),
        ("fp16", 200, 300, 33),
        ("fp16", 17, 96, 0),
        ("bf16", 520, 40, 100),   # 9 block rows of 64: a full group of 8 and a short one
        ("fp16", 300, 130, 96),   # 10 block rows of 32
    ]
    problems = shipped_matmul_configs_problems(module)
    for config, (dtype, M, N, K) in zip(module.matmul_kernel.configs, cases):
        bm, bn, bk = config.kwargs["BLOCK_M"], config.kwargs["BLOCK_N"], config.kwargs["BLOCK_K"]
        a_t, a = buf.storage(dtype, rng.uniform(-1, 1, M * K))
        b_t, b = buf.storage(dtype, rng.uniform(-1, 1, K * N))
        c_t, _ = buf.storage(dtype, np.full(M * N, np.nan))
        grid = (-(-M // bm) * -(-N // bn), 1, 1)
        kernel[grid](a_t, b_t, c_t, M, N, K, **config.kwargs)
        want = (a.reshape(M, K) @ b.reshape(K, N)).reshape(-1)
        got, guard_ok = buf.read(c_t, dtype, M * N)
        label = f"shipped matmul {dtype} {M}x{N}x{K} block {bm}x{bn}x{bk}"
        found = []
        check(found, label, np, got, want, np.ones(M * N, dtype=bool), guard_ok, TOL[dtype] if K else 0.0)
        print(("FAIL " if found else "ok   ") + label)
        problems += found
    return problems


def layernorm_cases(np, buf, module, rng):
    kernel = module.layernorm_fwd_kernel
    problems = []
    for dtype, M, N, stride, block in [("fp32", 3, 1, 1, 256), ("fp16", 5, 300, 310, 1024), ("bf16", 4, 1000, 1000, 1024),
                                       ("fp32", 2, 5000, 5003, 4096), ("fp16", 3, 256, 256, 256), ("fp32", 2, 700, 700, 256)]:
        x_t, x = buf.storage(dtype, rng.uniform(-1, 1, M * stride) + 0.5)
        w_t, w = buf.storage(dtype, rng.uniform(-1, 1, N))
        b_t, b = buf.storage(dtype, rng.uniform(-1, 1, N))
        y_t, _ = buf.storage(dtype, np.full(M * stride, np.nan))
        mean_t, _ = buf.storage("fp32", np.full(M, np.nan))
        rstd_t, _ = buf.storage("fp32", np.full(M, np.nan))
        eps = 1e-5
        kernel[(M, 1, 1)](x_t, y_t, w_t, b_t, mean_t, rstd_t, stride, N, eps, BLOCK_SIZE=block)
        want_y = np.full(M * stride, np.nan)
        written = np.zeros(M * stride, dtype=bool)
        want_mean, want_rstd = np.zeros(M), np.zeros(M)
        for r in range(M):
            row = x[r * stride:r * stride + N]
            mean = row.mean()
            rstd = 1 / np.sqrt(((row - mean) ** 2).mean() + eps)
            want_mean[r], want_rstd[r] = mean, rstd
            want_y[r * stride:r * stride + N] = (row - mean) * rstd * w + b
            written[r * stride:r * stride + N] = True
        label = f"layernorm {dtype} M={M} N={N} stride={stride} BLOCK_SIZE={block}"
        found = []
        got, guard = buf.read(y_t, dtype, M * stride)
        check(found, label + " Y", np, got, want_y, written, guard, TOL[dtype])
        for name, tensor, want in (("Mean", mean_t, want_mean), ("Rstd", rstd_t, want_rstd)):
            got, guard = buf.read(tensor, "fp32", M)
            check(found, f"{label} {name}", np, got, want, np.ones(M, dtype=bool), guard, 1e-5)
        print(("FAIL " if found else "ok   ") + label)
        problems += found
    return problems


def softmax_h_cases(np, buf, module, rng):
    kernel = module.softmax_h_kernel.fn  # under @triton.heuristics
    problems = []
    for dtype, rows, cols, in_stride, out_stride in [("fp32", 3, 129, 130, 129), ("fp16", 4, 1000, 1000, 1003),
                                                     ("bf16", 2, 4096, 4100, 4096)]:
        block = 1 << (cols - 1).bit_length()
        x_t, x = buf.storage(dtype, rng.uniform(-3, 3, rows * in_stride))
        y_t, _ = buf.storage(dtype, np.full(rows * out_stride, np.nan))
        kernel[(rows, 1, 1)](y_t, x_t, in_stride, out_stride, cols, BLOCK_SIZE=block)
        want = np.full(rows * out_stride, np.nan)
        written = np.zeros(rows * out_stride, dtype=bool)
        for r in range(rows):
            v = x[r * in_stride:r * in_stride + cols]
            e = np.exp(v - v.max())
            want[r * out_stride:r * out_stride + cols] = e / e.sum()
            written[r * out_stride:r * out_stride + cols] = True
        label = f"softmax_h {dtype} {rows}x{cols} BLOCK_SIZE={block}"
        found = []
        got, guard = buf.read(y_t, dtype, rows * out_stride)
        check(found, label, np, got, want, written, guard, TOL[dtype])
        print(("FAIL " if found else "ok   ") + label)
        problems += found
    return problems


def desc_matmul_cases(np, buf, module, rng):
    from triton.tools.tensor_descriptor import TensorDescriptor

    kernel = module.desc_matmul_kernel
    problems = []
    for dtype, M, N, K, (bm, bn, bk) in [("fp16", 70, 40, 104, (64, 64, 64)), ("bf16", 130, 136, 8, (128, 128, 64)),
                                         ("fp16", 1, 8, 8, (64, 64, 64))]:
        a_t, a = buf.storage(dtype, rng.uniform(-1, 1, M * K))
        b_t, b = buf.storage(dtype, rng.uniform(-1, 1, K * N))
        c_t, _ = buf.storage(dtype, np.full(M * N, np.nan))
        a_desc = TensorDescriptor(a_t, [M, K], [K, 1], [bm, bk])
        b_desc = TensorDescriptor(b_t, [K, N], [N, 1], [bk, bn])
        kernel[(-(-M // bm), -(-N // bn), 1)](a_desc, b_desc, c_t, M, N, K, BLOCK_M=bm, BLOCK_N=bn, BLOCK_K=bk)
        want = (a.reshape(M, K) @ b.reshape(K, N)).reshape(-1)
        label = f"desc_matmul {dtype} {M}x{N}x{K} block {bm}x{bn}x{bk}"
        found = []
        got, guard = buf.read(c_t, dtype, M * N)
        check(found, label, np, got, want, np.ones(M * N, dtype=bool), guard, TOL[dtype])
        print(("FAIL " if found else "ok   ") + label)
        problems += found
    return problems


def main() -> int:
    missing = [m for m in ("numpy", "triton") if importlib.util.find_spec(m) is None]
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (the check needs numpy and triton)")
        return SKIP_EXIT_CODE
    import numpy as np
    import triton.language as tl

    sys.path.insert(0, HERE)
    import fmha_interpreter_check as helpers  # its host tensors and interpreter patches

    helpers._patch_interpreter(np)
    buf = Buffers(np, tl, helpers._HostTensor, helpers._to_bf16_bits, helpers._from_bf16_bits)
    rng = np.random.default_rng(20261129)
    problems = []
    problems += matmul_cases(np, buf, _load("matmul"), rng)
    problems += layernorm_cases(np, buf, _load("layernorm"), rng)
    problems += softmax_h_cases(np, buf, _load("softmax_h"), rng)
    problems += desc_matmul_cases(np, buf, _load("desc_matmul"), rng)
    problems += shipped_matmul_cases(np, buf, _load("matmul", SHIPPED, "tritonpack_shipped"), rng)
    for p in problems:
        print(f"  {p}")
    print(f"{'FAILED' if problems else 'all passed'}: {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
