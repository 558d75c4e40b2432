"""Numerical check of kernels/attention/attention.py on the CPU, with Triton's interpreter (no GPU).

Run: python3 tests/python/attention_interpreter_check.py [--quick]

Runs attention_fwd under TRITON_INTERPRET=1 over what the family promises: its layouts ([B, H, S,
D], [B, S, H, D], and [B, H, S, D] with V given transposed, [B, H, D, S]: V_T), causal
(bottom-right) and not, grouped-query heads, query lengths shorter and longer than the key length
(rows that see no key: O = 0, LSE = -inf), ragged lengths, fp16 and bf16, and FP8 inputs (e4m3,
e5m2) with an fp16 output as attention_fp8.toml and attention_fp8_vt.toml compile them. O and LSE
are compared with a float64 reference computed from the same (rounded) inputs; with FP8 inputs, O
within the bound that rounding P to FP8 allows, element by element. Every output starts as a
canary value with a guard region after its end: a row left unwritten, or a write past the end,
fails the check. Every input has a NaN guard region after its end: a read past the end (the last
head's keys past seq_kv, loaded without their mask) makes O NaN. Not with e4m3: the interpreter
reads e4m3's NaN code as a finite value, so the fp16 and bf16 cases carry that check (the loads
do not depend on the dtype).

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


# The FP8 formats the FP8 specs take: (exponent bits, mantissa bits, exponent bias). e4m3 is
# Triton's fp8e4nv (e4m3fn: no infinities, only S.1111.111 is NaN); e5m2 is fp8e5 (IEEE-like).
FP8_FORMATS = {"e4m3": (4, 3, 7), "e5m2": (5, 2, 15)}


def fp8_values(np, name):
    """The value of each of the 256 codes of FP8 format `name` (NaN for the NaN and infinity codes,
    which the inputs never use)."""
    e_bits, m_bits, bias = FP8_FORMATS[name]
    codes = np.arange(256)
    sign = np.where(codes >> 7, -1.0, 1.0)
    exponent = (codes >> m_bits) & ((1 << e_bits) - 1)
    mantissa = codes & ((1 << m_bits) - 1)
    magnitude = np.where(exponent == 0, mantissa / 2.0**m_bits * 2.0**(1 - bias),
                         (1 + mantissa / 2.0**m_bits) * 2.0**(exponent.astype(np.float64) - bias))
    top = exponent == (1 << e_bits) - 1
    special = (top & (mantissa == (1 << m_bits) - 1)) if name == "e4m3" else top
    return np.where(special, np.nan, sign * magnitude)


def to_fp8_bits(np, x, name):
    """x rounded to the nearest finite value of FP8 format `name` (ties to even, saturating, as
    sm_90's cvt.rn.satfinite), as uint8 codes."""
    values = fp8_values(np, name)
    codes = np.flatnonzero(np.isfinite(values) & (np.arange(256) != 0x80))  # -0 is left out
    order = np.argsort(values[codes], kind="stable")
    codes, sorted_values = codes[order], values[codes][order]
    x = np.asarray(x, dtype=np.float64)
    above = np.clip(np.searchsorted(sorted_values, x), 1, len(codes) - 1)
    below = above - 1
    d_below, d_above = np.abs(x - sorted_values[below]), np.abs(sorted_values[above] - x)
    pick_below = (d_below < d_above) | ((d_below == d_above) & (codes[below] % 2 == 0))
    return codes[np.where(pick_below, below, above)].astype(np.uint8)


def patch_fp8_downcast(np, tl):
    """Rounds the interpreter's float -> FP8 casts (P's, before the P V product) to nearest even.

    Triton 3.6's interpreter rounds ties away from zero and drops the carry when rounding up
    overflows the mantissa (0.124 -> e4m3 gives 0.0625, not 0.125): triton-lang/triton#8322,
    and the carry defect reported on its fix, triton-lang/triton#9808. The GPU rounds to nearest
    even (cvt.rn.satfinite), which this patch does; FP8 -> wider casts are left as they are (exact).
    """
    from triton.runtime import interpreter as interp

    names = {tl.float8e4nv: "e4m3", tl.float8e5: "e5m2"}
    original = interp.InterpreterBuilder.create_fp_to_fp

    def create_fp_to_fp(self, src, dst_type, rounding_mode):
        name = names.get(dst_type.scalar)
        if name is None or src.dtype.scalar not in (tl.float16, tl.float32, tl.float64):
            return original(self, src, dst_type, rounding_mode)
        return interp.TensorHandle(to_fp8_bits(np, src.data.astype(np.float64), name), dst_type.scalar)

    interp.InterpreterBuilder.create_fp_to_fp = create_fp_to_fp


def p_rounding_bound(name):
    """(relative, absolute) error of rounding a softmax numerator p in [0, 1] to FP8 format
    `name`: half a unit in the last place of a normal value, half the subnormal spacing below."""
    _, m_bits, bias = FP8_FORMATS[name]
    return 2.0**-(m_bits + 1), 2.0**(1 - bias - m_bits - 1)


def reference(np, q, k, v, sm_scale, causal, p_rounding=None):
    """float64 O [B, HQ, SQ, D] and LSE [B, HQ, SQ] from q [B, HQ, SQ, D], k, v [B, HKV, SKV, D];
    and the bound [B, HQ, SQ, D] on O's error that rounding P to FP8 brings, when p_rounding
    (p_rounding_bound's pair) is given, else None.

    The kernel rounds p_j = exp(s_j - m) to FP8, with m the running max of the key blocks seen so
    far, and later scales it by exp(m - m_final) <= 1: each term's error is at most
    (rel * p_j + abs) |V_j| against the final max's p_j, so
    |O_i - reference_i| <= sum_j (rel * p_j + abs) |V_j| / l (plus fp32 and the output's rounding).
    """
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
    bound = None
    if p_rounding is not None:
        rel, absolute = p_rounding
        visible = np.isfinite(s)
        term = np.where(visible, rel * p + absolute, 0.0)
        bound = np.einsum("bhij,bhjd->bhid", term, np.abs(v)) / np.where(seen, l_sum, 1.0)[..., None]
    return out, lse, bound


# The layouts: (BSHD, V_T).
LAYOUTS = {"BHSD": (False, False), "BSHD": (True, False), "BHSD+VT": (False, True)}


def run_case(np, tl, kernel, case, seed):
    dtype_name, layout, causal, b, hq, hkv, sq, skv, d, block_m, block_n = case
    bshd, v_t = LAYOUTS[layout]
    rng = np.random.default_rng(seed)
    tl_dtype = {"fp16": tl.float16, "bf16": tl.bfloat16, "e4m3": tl.float8e4nv, "e5m2": tl.float8e5}[dtype_name]
    fp8 = dtype_name in FP8_FORMATS
    # O: the input dtype, or fp16 for FP8 inputs (the FP8 specs' TO = fp16).
    out_name = "fp16" if fp8 else dtype_name
    out_tl_dtype = tl.float16 if fp8 else tl_dtype

    def stored(heads, seq, transposed):  # the [B, H, S, D] view's shape in the tensor's own layout
        if transposed:
            return (b, heads, d, seq)
        return (b, seq, heads, d) if bshd else (b, heads, seq, d)

    def to_bhsd(x, transposed=False):
        if transposed:
            return x.transpose(0, 1, 3, 2)
        return x.transpose(0, 2, 1, 3) if bshd else x

    def make_input(heads, seq, transposed=False):
        shape = stored(heads, seq, transposed)
        n = int(np.prod(shape))
        x = rng.standard_normal(n)
        # The guard after the input is NaN: a key read past the end without its mask makes O NaN
        # (0 * NaN), even where the masked score would have dropped it.
        if dtype_name == "fp16":
            buf = np.full(n + GUARD, np.nan, dtype=np.float16)
            buf[:n] = x
            exact = buf[:n].astype(np.float64)
        elif dtype_name == "bf16":
            buf = np.full(n + GUARD, 0x7FC0, dtype=np.uint16)  # NaN
            buf[:n] = host._to_bf16_bits(np, x)
            exact = host._from_bf16_bits(np, buf[:n]).astype(np.float64)
        else:
            buf = np.full(n + GUARD, 0x7F, dtype=np.uint8)  # NaN in both formats
            buf[:n] = to_fp8_bits(np, x, dtype_name)
            exact = fp8_values(np, dtype_name)[buf[:n]]
        return host._HostTensor(buf, tl_dtype), to_bhsd(exact.reshape(shape), transposed)

    q_t, q = make_input(hq, sq)
    k_t, k = make_input(hkv, skv)
    v_t_tensor, v = make_input(hkv, skv, transposed=v_t)
    n_out = b * hq * sq * d
    if out_name == "fp16":
        o_buf = np.full(n_out + GUARD, CANARY, dtype=np.float16)
    else:
        o_buf = host._to_bf16_bits(np, np.full(n_out + GUARD, CANARY))
    o_canary = o_buf.copy()
    lse_buf = np.full(b * hq * sq + GUARD, CANARY, dtype=np.float32)
    o_t = host._HostTensor(o_buf, out_tl_dtype)
    lse_t = host._HostTensor(lse_buf, tl.float32)

    sm_scale = 1.0 / np.sqrt(d)
    grid = ((sq + block_m - 1) // block_m, b * hq, 1)
    kernel[grid](q_t, k_t, v_t_tensor, o_t, lse_t, float(sm_scale), b, hq, hkv, sq, skv, int(causal),
                 HEAD_DIM=d, IS_CAUSAL=causal, BSHD=bshd, V_T=v_t, BLOCK_M=block_m, BLOCK_N=block_n)

    raw = o_buf[:n_out] if out_name == "fp16" else host._from_bf16_bits(np, o_buf[:n_out])
    out = to_bhsd(raw.astype(np.float64).reshape(stored(hq, sq, False)))
    lse = lse_buf[:b * hq * sq].astype(np.float64).reshape(b, hq, sq)
    ref_out, ref_lse, p_bound = reference(np, q, k, v, sm_scale, causal,
                                          p_rounding_bound(dtype_name) if fp8 else None)

    problems = []
    if not np.array_equal(o_buf[n_out:], o_canary[n_out:]):
        problems.append("O was written past its end")
    if not np.all(lse_buf[b * hq * sq:] == CANARY):
        problems.append("LSE was written past its end")
    # FP8: element by element, the bound of P's rounding to FP8 (reference()) on top of fp16's.
    out_tol = {"fp16": 4e-3, "bf16": 3e-2}[out_name] + (p_bound if fp8 else 0.0)
    err_out = float(np.max(np.abs(out - ref_out))) if n_out else 0.0
    if not np.all(np.isfinite(out)) or np.any(np.abs(out - ref_out) > out_tol):
        problems.append(f"O: max abs error {err_out:.3g} above its tolerance (or not finite)")
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
    patch_fp8_downcast(np, tl)
    kernel = _load("tritonpack_attention_kernel", KERNEL_FILE).attention_fwd

    # (dtype, layout, causal, B, HQ, HKV, SQ, SKV, D, BLOCK_M, BLOCK_N). In the V^T cases SKV differs
    # from D, so a V read with the other layout's strides gives other values.
    cases = [
        ("fp16", "BHSD", True, 2, 2, 2, 17, 17, 64, 16, 16),     # square, ragged
        ("fp16", "BHSD", False, 1, 2, 2, 33, 47, 64, 16, 16),    # not causal, SQ != SKV
        ("fp16", "BHSD", True, 1, 4, 2, 5, 77, 64, 16, 16),      # GQA 2:1, a short query (decode-like)
        ("fp16", "BHSD", True, 1, 4, 1, 1, 40, 64, 16, 16),      # GQA 4:1, one query row
        ("fp16", "BHSD", True, 1, 2, 2, 40, 9, 64, 16, 16),      # SQ > SKV: the first 31 rows see nothing
        ("fp16", "BSHD", True, 2, 4, 2, 29, 29, 64, 32, 16),     # [B, S, H, D], GQA
        ("fp16", "BSHD", False, 1, 2, 1, 3, 50, 64, 16, 32),     # [B, S, H, D], not causal
        ("fp16", "BHSD", True, 1, 2, 2, 64, 64, 64, 32, 32),     # whole blocks, no ragged edge
        ("fp16", "BHSD", False, 1, 2, 2, 4, 0, 64, 16, 16),      # no keys at all
        ("bf16", "BHSD", True, 1, 2, 2, 23, 23, 64, 16, 16),
        ("bf16", "BSHD", False, 1, 4, 2, 7, 31, 64, 16, 16),
        # V given transposed, [B, HKV, D, SKV] (V_T): the loads of V^T mask the keys past SKV.
        ("fp16", "BHSD+VT", True, 2, 4, 2, 29, 45, 64, 16, 16),  # GQA 2:1, causal, ragged
        ("fp16", "BHSD+VT", False, 1, 2, 2, 33, 19, 64, 16, 32), # not causal, SQ > SKV
        ("fp16", "BHSD+VT", True, 1, 4, 2, 40, 9, 64, 16, 16),   # rows that see no key
        ("fp16", "BHSD+VT", True, 1, 2, 1, 48, 96, 64, 16, 32),  # whole blocks, no ragged edge
        ("fp16", "BHSD+VT", False, 1, 2, 2, 4, 0, 64, 16, 16),   # no keys at all
        ("bf16", "BHSD+VT", False, 1, 4, 1, 7, 31, 128, 16, 16), # D 128, GQA 4:1
        # FP8 inputs with an fp16 output (attention_fp8.toml, attention_fp8_vt.toml).
        ("e4m3", "BHSD", True, 1, 4, 2, 29, 45, 64, 16, 16),
        ("e4m3", "BHSD+VT", True, 1, 4, 2, 29, 45, 64, 16, 16),
        ("e4m3", "BHSD+VT", False, 2, 2, 2, 17, 50, 64, 16, 32),
        ("e5m2", "BHSD+VT", True, 1, 2, 1, 40, 23, 64, 16, 16),  # GQA 2:1, rows that see no key
    ]
    if "--quick" in argv:
        cases = cases[:4]
    failed = 0
    start = time.monotonic()
    for i, case in enumerate(cases):
        t0 = time.monotonic()
        problems, err_out, err_lse = run_case(np, tl, kernel, case, seed=i)
        dtype_name, layout, causal, b, hq, hkv, sq, skv, d, bm, bn = case
        print(f"{'FAIL' if problems else 'ok':4} {dtype_name} {layout} "
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
