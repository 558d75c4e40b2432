"""Numerical check of kernels/attention/attention.py on the CPU, with Triton's interpreter (no GPU).

Run: python3 tests/python/attention_interpreter_check.py [--quick]

Runs attention_fwd under TRITON_INTERPRET=1 over what the family promises: both layouts ([B, H, S,
D] and [B, S, H, D]), causal (bottom-right) and not, grouped-query heads, query lengths shorter and
longer than the key length (rows that see no key: O = 0, LSE = -inf), ragged lengths, fp16 and
bf16. O and LSE are compared with a float64 reference computed from the same (rounded) inputs.
Every output starts as a canary value with a guard region after its end: a row left unwritten, or
a write past the end, fails the check.

Needs numpy and Triton, not torch (fmha_interpreter_check.py's host tensors stand in for torch's).
Exits 0 when every case passes, 1 on a mismatch, 77 (skipped) without numpy or Triton.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import time

os.environ["TRITON_INTERPRET"] = "1"  # before Triton is imported

HERE = os.path.dirname(os.path.abspath(__file__))
KERNEL_FILE = os.path.join(HERE, "..", "..", "kernels", "attention", "attention.py")
GUARD = 64
CANARY = 12345.0


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


host = _load("tritonpack_fmha_interpreter_check", os.path.join(HERE, "fmha_interpreter_check.py"))


def reference(np, q, k, v, sm_scale, causal):
    """float64 O [B, HQ, SQ, D] and LSE [B, HQ, SQ] from q [B, HQ, SQ, D], k, v [B, HKV, SKV, D]."""
    heads_q, heads_kv = q.shape[1], k.shape[1]
    k = np.repeat(k, heads_q // heads_kv, axis=1)
    v = np.repeat(v, heads_q // heads_kv, axis=1)
    s = np.einsum("bhid,bhjd->bhij", q, k) * sm_scale
    seq_q, seq_kv = q.shape[2], k.shape[2]
    if causal:
        visible = np.arange(seq_kv)[None, :] <= np.arange(seq_q)[:, None] + (seq_kv - seq_q)
        s = np.where(visible, s, -np.inf)
    m = s.max(axis=-1, initial=-np.inf)
    seen = np.isfinite(m)
    p = np.exp(s - np.where(seen, m, 0.0)[..., None])
    l_sum = p.sum(axis=-1)
    out = np.einsum("bhij,bhjd->bhid", p, v) / np.where(seen, l_sum, 1.0)[..., None]
    lse = np.where(seen, np.where(seen, m, 0.0) + np.log(np.where(seen, l_sum, 1.0)), -np.inf)
    return out, lse


def run_case(np, tl, kernel, case, seed):
    dtype_name, bshd, causal, b, hq, hkv, sq, skv, d, block_m, block_n = case
    rng = np.random.default_rng(seed)
    tl_dtype = {"fp16": tl.float16, "bf16": tl.bfloat16}[dtype_name]

    def logical(heads, seq):  # the [B, H, S, D] view's shape in the tensor's own layout
        return (b, seq, heads, d) if bshd else (b, heads, seq, d)

    def to_bhsd(x):
        return x.transpose(0, 2, 1, 3) if bshd else x

    def make_input(heads, seq):
        shape = logical(heads, seq)
        n = int(np.prod(shape))
        x = rng.standard_normal(n)
        if dtype_name == "fp16":
            buf = np.zeros(n + GUARD, dtype=np.float16)
            buf[:n] = x
            exact = buf[:n].astype(np.float64)
        else:
            buf = np.zeros(n + GUARD, dtype=np.uint16)
            buf[:n] = host._to_bf16_bits(np, x)
            exact = host._from_bf16_bits(np, buf[:n]).astype(np.float64)
        return host._HostTensor(buf, tl_dtype), to_bhsd(exact.reshape(shape))

    q_t, q = make_input(hq, sq)
    k_t, k = make_input(hkv, skv)
    v_t, v = make_input(hkv, skv)
    n_out = b * hq * sq * d
    if dtype_name == "fp16":
        o_buf = np.full(n_out + GUARD, CANARY, dtype=np.float16)
    else:
        o_buf = host._to_bf16_bits(np, np.full(n_out + GUARD, CANARY))
    o_canary = o_buf.copy()
    lse_buf = np.full(b * hq * sq + GUARD, CANARY, dtype=np.float32)
    o_t = host._HostTensor(o_buf, tl_dtype)
    lse_t = host._HostTensor(lse_buf, tl.float32)

    sm_scale = 1.0 / np.sqrt(d)
    grid = ((sq + block_m - 1) // block_m, b * hq, 1)
    kernel[grid](q_t, k_t, v_t, o_t, lse_t, float(sm_scale), b, hq, hkv, sq, skv, int(causal),
                 HEAD_DIM=d, IS_CAUSAL=causal, BSHD=bshd, BLOCK_M=block_m, BLOCK_N=block_n)

    raw = o_buf[:n_out] if dtype_name == "fp16" else host._from_bf16_bits(np, o_buf[:n_out])
    out = to_bhsd(raw.astype(np.float64).reshape(logical(hq, sq)))
    lse = lse_buf[:b * hq * sq].astype(np.float64).reshape(b, hq, sq)
    ref_out, ref_lse = reference(np, q, k, v, sm_scale, causal)

    problems = []
    if not np.array_equal(o_buf[n_out:], o_canary[n_out:]):
        problems.append("O was written past its end")
    if not np.all(lse_buf[b * hq * sq:] == CANARY):
        problems.append("LSE was written past its end")
    out_tol = {"fp16": 4e-3, "bf16": 3e-2}[dtype_name]
    err_out = float(np.max(np.abs(out - ref_out))) if n_out else 0.0
    if not np.all(np.isfinite(out)) or err_out > out_tol:
        problems.append(f"O: max abs error {err_out:.3g} > {out_tol:g} (or not finite)")
    finite = np.isfinite(ref_lse)
    if not np.array_equal(np.isfinite(lse), finite) or np.any(lse[~finite] != -np.inf):
        problems.append("LSE: -inf exactly where a row sees no key, and only there")
    err_lse = float(np.max(np.abs(lse[finite] - ref_lse[finite]) / np.maximum(1.0, np.abs(ref_lse[finite])))) \
        if finite.any() else 0.0
    if err_lse > 1e-5:
        problems.append(f"LSE: max error {err_lse:.3g} > 1e-5")
    return problems, err_out, err_lse


def main(argv: list[str]) -> int:
    missing = host._missing_modules()
    if missing:
        print(f"skipped: {', '.join(missing)} not installed (the check needs numpy and triton)")
        return host.SKIP_EXIT_CODE
    import numpy as np
    import triton.language as tl

    host._patch_interpreter(np)
    kernel = _load("tritonpack_attention_kernel", KERNEL_FILE).attention_fwd

    # (dtype, BSHD, causal, B, HQ, HKV, SQ, SKV, D, BLOCK_M, BLOCK_N)
    cases = [
        ("fp16", False, True, 2, 2, 2, 17, 17, 64, 16, 16),    # square, ragged
        ("fp16", False, False, 1, 2, 2, 33, 47, 64, 16, 16),   # not causal, SQ != SKV
        ("fp16", False, True, 1, 4, 2, 5, 77, 64, 16, 16),     # GQA 2:1, a short query (decode-like)
        ("fp16", False, True, 1, 4, 1, 1, 40, 64, 16, 16),     # GQA 4:1, one query row
        ("fp16", False, True, 1, 2, 2, 40, 9, 64, 16, 16),     # SQ > SKV: the first 31 rows see nothing
        ("fp16", True, True, 2, 4, 2, 29, 29, 64, 32, 16),     # [B, S, H, D], GQA
        ("fp16", True, False, 1, 2, 1, 3, 50, 64, 16, 32),     # [B, S, H, D], not causal
        ("fp16", False, True, 1, 2, 2, 64, 64, 64, 32, 32),    # whole blocks, no ragged edge
        ("fp16", False, False, 1, 2, 2, 4, 0, 64, 16, 16),     # no keys at all
        ("bf16", False, True, 1, 2, 2, 23, 23, 64, 16, 16),
        ("bf16", True, False, 1, 4, 2, 7, 31, 64, 16, 16),
    ]
    if "--quick" in argv:
        cases = cases[:4]
    failed = 0
    start = time.monotonic()
    for i, case in enumerate(cases):
        t0 = time.monotonic()
        problems, err_out, err_lse = run_case(np, tl, kernel, case, seed=i)
        dtype_name, bshd, causal, b, hq, hkv, sq, skv, d, bm, bn = case
        print(f"{'FAIL' if problems else 'ok':4} {dtype_name} {'BSHD' if bshd else 'BHSD'} "
              f"{'causal' if causal else 'full'} B={b} HQ={hq} HKV={hkv} SQ={sq} SKV={skv} D={d} "
              f"BLOCK_M={bm} BLOCK_N={bn}: max err O {err_out:.2e} LSE {err_lse:.2e} "
              f"({time.monotonic() - t0:.1f} s)")
        for p in problems:
            print(f"     {p}")
        failed += bool(problems)
    print(f"{len(cases) - failed}/{len(cases)} cases passed in {time.monotonic() - start:.1f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
