"""Numerical check of kernels/fmha/fmha.py on the CPU, with Triton's interpreter (no GPU).

Run: python3 tests/python/fmha_interpreter_check.py [--quick]

Runs fused_attention_kernel under TRITON_INTERPRET=1 on small shapes (ragged seq_len
included) and compares Out, L and M with a float64 reference computed from the same
(rounded) inputs. Every output buffer has a guard region after its end, filled with a
canary value: a write past row seq_len - 1 of the last head changes it and fails the check.

Needs numpy and Triton, not torch: the interpreter only needs objects that look like torch
tensors (data_ptr, untyped_storage, ...), which _HostTensor provides over a numpy array.
Exits 0 when every case passes, 1 on a mismatch, 77 (skipped) without numpy or Triton.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

SKIP_EXIT_CODE = 77

# The interpreter is chosen when @triton.jit runs, so before Triton (and the kernel) is imported.
os.environ["TRITON_INTERPRET"] = "1"

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KERNEL_FILE = os.path.join(REPO, "kernels", "fmha", "fmha.py")

GUARD = 64  # elements after each buffer's end
CANARY = 12345.0


def _missing_modules() -> list[str]:
    return [m for m in ("numpy", "triton") if importlib.util.find_spec(m) is None]


class _HostStorage:
    """What the interpreter calls untyped_storage(): it copies to 'cpu' (a no-op here) and back."""

    def __init__(self, array):
        self.array = array

    def data_ptr(self) -> int:
        return self.array.ctypes.data

    def cpu(self) -> "_HostStorage":
        return self

    def copy_(self, other: "_HostStorage") -> None:
        if other is not self:
            self.array[...] = other.array


class _HostTensor:
    """A contiguous numpy buffer that the interpreter accepts as a pointer argument.

    `dtype` is a Triton dtype (the pointer's element type); bf16 is stored as uint16 bits.
    """

    def __init__(self, array, dtype):
        self.array = array
        self.dtype = dtype
        self._storage = _HostStorage(array)

    def data_ptr(self) -> int:
        return self.array.ctypes.data

    def untyped_storage(self) -> _HostStorage:
        return self._storage

    def storage_offset(self) -> int:
        return 0

    def size(self):
        return self.array.shape

    def stride(self):
        return tuple(s // self.array.itemsize for s in self.array.strides)

    def new_empty(self, *_args, **_kwargs) -> "_HostTensor":
        return _HostTensor(self.array[:0], self.dtype)

    def set_(self, storage: _HostStorage, _offset, _size, _stride) -> "_HostTensor":
        self.array = storage.array
        self._storage = storage
        return self


def _patch_interpreter(np) -> None:
    """Works around two limits of Triton 3.6's interpreter; neither changes what the kernel does.

    - A scalar tensor used as a range() bound is converted with int() on a 1-element array,
      which numpy >= 2.4 refuses ("only 0-dimensional arrays can be converted").
    - tl.dot on bf16 operands multiplies their raw uint16 bit patterns as integers. The patch
      widens bf16 operands to fp32 first (exact), which is what the GPU's bf16 MMA computes with.
    """
    from triton.runtime import interpreter as interp

    original_patch = interp._patch_lang_tensor

    def patch_lang_tensor(tensor, scope):
        original_patch(tensor, scope)
        scope.set_attr(tensor, "__index__", lambda self: int(np.asarray(self.handle.data).reshape(-1)[0]))

    interp._patch_lang_tensor = patch_lang_tensor

    original_dot = interp.InterpreterBuilder.create_dot
    tl = interp.tl

    def widen(h):
        if h.dtype.scalar == tl.bfloat16:
            return interp.TensorHandle(_from_bf16_bits(np, h.data), tl.float32)
        return h

    def create_dot(self, a, b, d, input_precision, max_num_imprecise_acc):
        return original_dot(self, widen(a), widen(b), d, input_precision, max_num_imprecise_acc)

    interp.InterpreterBuilder.create_dot = create_dot


def _to_bf16_bits(np, x):
    """float -> bfloat16 bits (round to nearest even), as uint16."""
    bits = x.astype(np.float32).view(np.uint32).astype(np.uint64)
    bits = (bits + 0x7FFF + ((bits >> 16) & 1)) >> 16
    return bits.astype(np.uint16)


def _from_bf16_bits(np, b):
    return (b.astype(np.uint32) << 16).view(np.float32)


def _reference(np, q, k, v, sm_scale):
    """float64 causal attention: Out, L, M with the kernel's definitions."""
    s = np.einsum("bhid,bhjd->bhij", q, k) * sm_scale
    n = q.shape[2]
    causal = np.tril(np.ones((n, n), dtype=bool))
    s = np.where(causal, s, -np.inf)
    m = s.max(axis=-1)
    p = np.exp(s - m[..., None])
    l_sum = p.sum(axis=-1)
    out = np.einsum("bhij,bhjd->bhid", p, v) / l_sum[..., None]
    return out, l_sum, m


def run_case(np, tl, kernel, dtype_name, batch, heads, seq_len, block_m, block_n, dmodel, seed):
    rng = np.random.default_rng(seed)
    shape = (batch, heads, seq_len, dmodel)
    numel = batch * heads * seq_len * dmodel
    rows = batch * heads * seq_len
    tl_dtype = {"fp16": tl.float16, "bf16": tl.bfloat16, "fp32": tl.float32}[dtype_name]

    def make_input():
        x = rng.standard_normal(shape)
        buf = np.full(numel + GUARD, 0, dtype=np.float32)
        if dtype_name == "fp16":
            buf = buf.astype(np.float16)
            buf[:numel] = x.reshape(-1)
            exact = buf[:numel].astype(np.float64)
        elif dtype_name == "bf16":
            buf = _to_bf16_bits(np, buf)
            buf[:numel] = _to_bf16_bits(np, x.reshape(-1))
            exact = _from_bf16_bits(np, buf[:numel]).astype(np.float64)
        else:
            buf[:numel] = x.reshape(-1)
            exact = buf[:numel].astype(np.float64)
        return _HostTensor(buf, tl_dtype), exact.reshape(shape)

    q_t, q = make_input()
    k_t, k = make_input()
    v_t, v = make_input()
    if dtype_name == "fp16":
        out_buf = np.full(numel + GUARD, CANARY, dtype=np.float16)
    elif dtype_name == "bf16":
        out_buf = _to_bf16_bits(np, np.full(numel + GUARD, CANARY))
    else:
        out_buf = np.full(numel + GUARD, CANARY, dtype=np.float32)
    out_canary = out_buf[numel:].copy()
    out_t = _HostTensor(out_buf, tl_dtype)
    l_t = _HostTensor(np.full(rows + GUARD, CANARY, dtype=np.float32), tl.float32)
    m_t = _HostTensor(np.full(rows + GUARD, CANARY, dtype=np.float32), tl.float32)

    sm_scale = 1.0 / np.sqrt(dmodel)
    grid = ((seq_len + block_m - 1) // block_m, batch * heads, 1)
    kernel[grid](out_t, l_t, m_t, q_t, k_t, v_t, float(sm_scale), batch, heads, seq_len,
                 BLOCK_M=block_m, BLOCK_DMODEL=dmodel, BLOCK_N=block_n)

    if dtype_name == "bf16":
        out = _from_bf16_bits(np, out_buf[:numel]).astype(np.float64).reshape(shape)
    else:
        out = out_buf[:numel].astype(np.float64).reshape(shape)
    l_out = l_t.array[:rows].astype(np.float64).reshape(batch, heads, seq_len)
    m_out = m_t.array[:rows].astype(np.float64).reshape(batch, heads, seq_len)
    ref_out, ref_l, ref_m = _reference(np, q, k, v, sm_scale)

    # fp16/bf16: P is rounded to the input dtype before the P @ V product, as on the GPU.
    out_tol = {"fp16": 4e-3, "bf16": 3e-2, "fp32": 1e-5}[dtype_name]
    problems = []
    if not np.array_equal(out_buf[numel:], out_canary):
        problems.append("Out was written past its end")
    if not np.all(l_t.array[rows:] == CANARY):
        problems.append("L was written past its end")
    if not np.all(m_t.array[rows:] == CANARY):
        problems.append("M was written past its end")
    err_out = float(np.max(np.abs(out - ref_out))) if numel else 0.0
    err_l = float(np.max(np.abs(l_out - ref_l) / ref_l))
    err_m = float(np.max(np.abs(m_out - ref_m) / np.maximum(1.0, np.abs(ref_m))))
    if not np.all(np.isfinite(out)) or err_out > out_tol:
        problems.append(f"Out: max abs error {err_out:.3g} > {out_tol:g}")
    if err_l > 1e-4:
        problems.append(f"L: max rel error {err_l:.3g} > 1e-4")
    if err_m > 1e-5:
        problems.append(f"M: max error {err_m:.3g} > 1e-5")
    return problems, (err_out, err_l, err_m)


def main(argv: list[str]) -> int:
    missing = _missing_modules()
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (the check needs numpy and triton)")
        return SKIP_EXIT_CODE
    import numpy as np
    import triton.language as tl

    _patch_interpreter(np)
    spec = importlib.util.spec_from_file_location("tritonpack_fmha_kernel", KERNEL_FILE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    kernel = module.fused_attention_kernel

    quick = "--quick" in argv
    cases = []
    # (dtype, B, H, S, BLOCK_M, BLOCK_N)
    for seq_len in (1, 17, 64, 130):
        cases.append(("fp16", 2, 2, seq_len, 32, 16))
    cases += [("fp16", 1, 2, 130, 16, 16), ("fp16", 1, 2, 64, 64, 64),
              ("fp32", 1, 2, 17, 32, 16), ("fp32", 2, 2, 130, 32, 32),
              ("bf16", 1, 2, 17, 32, 16), ("bf16", 1, 2, 130, 32, 16)]
    if quick:
        cases = [c for c in cases if c[3] in (1, 17)]

    failed = 0
    start = time.monotonic()
    for i, (dtype_name, b, h, s, bm, bn) in enumerate(cases):
        t0 = time.monotonic()
        problems, (e_out, e_l, e_m) = run_case(np, tl, kernel, dtype_name, b, h, s, bm, bn, 64, seed=i)
        status = "FAIL" if problems else "ok"
        print(f"{status:4} {dtype_name} B={b} H={h} S={s} D=64 BLOCK_M={bm} BLOCK_N={bn}: "
              f"max err Out {e_out:.2e} L(rel) {e_l:.2e} M {e_m:.2e} ({time.monotonic() - t0:.1f} s)")
        for p in problems:
            print(f"     {p}")
        failed += bool(problems)
    print(f"{len(cases) - failed}/{len(cases)} cases passed in {time.monotonic() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
