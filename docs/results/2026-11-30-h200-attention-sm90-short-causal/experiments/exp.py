"""Experiment (sm_90, Gluon JIT): variants of kernels/attention/attention_sm90.py for short causal rows.

Variants are made from the current kernel source by text replacement (see VARIANTS), written next
to this file as attn_<name>.py, checked against a float64 reference, then timed beside SDPA cuDNN.
  base:  the kernel as it is.
  m0:    the first key block of a tile without the mask when every row sees all of it.
  h2:    m0, and the softmax's exponentials in half precision (ex2.approx.f16x2). Not run: compiled
         for sm_90 it is two MUFU.EX2.F16 instructions, one a value, the same count as before.
  pfi:   m0swap, every warpgroup reads at least one key block (rows that see none: block 0 all
         masked), and at D 64 two query buffers a warpgroup and each tile's O and LSE stored after
         the next tile's first Q K^T is issued (attn_pfi.patch, by hand).
  hd:    with 128-key blocks, a tile's last block (not its first) whose second half no row of the
         warpgroup sees is computed over its first half only (attn_hd.patch).
  poly:  a quarter of the unmasked blocks' exp2s (columns 16a + 8 + 2c + 1) computed by a degree-3
         polynomial on the FMA pipe, the rest on MUFU (attn_poly.patch; the columns are split
         apart in registers, no shuffles).
  cheapmask: the mask as one comparison a score with a per-row limit.
  swap:  causal pairs: in the second tile of a unit the two consumer warpgroups swap query halves,
         so over a unit both read the same number of key blocks (before: the first warpgroup read
         one block fewer in each tile, and waited for the other).
Usage: python exp.py checkall NAME... | warm NAME,... [ROWS] | bench NAME,... [ROWS] | fit NAME,...
(bench/sm90_variants.py runs them; a NAME is a variant and its key-block size: base64, poly128, ...)
"""
import os, sys

HERE = os.path.dirname(os.path.abspath(__file__))


def _root():
    """The repository: $ROOT, else the nearest folder above this one that has kernels/attention."""
    if os.environ.get("ROOT"):
        return os.environ["ROOT"]
    d = HERE
    while not os.path.isdir(os.path.join(d, "kernels", "attention")) and os.path.dirname(d) != d:
        d = os.path.dirname(d)
    return d


ROOT = _root()
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, HERE)
SRC = os.path.join(ROOT, "kernels", "attention", "attention_sm90.py")

M0 = ("""                p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype, p_layout,
                                                 BLOCK_N, True, IS_CAUSAL)""",
      """                if n_full > 0:
                    p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype,
                                                     p_layout, BLOCK_N, False, IS_CAUSAL)
                else:
                    p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype,
                                                     p_layout, BLOCK_N, True, IS_CAUSAL)""")
SWAP = [("start_m + w * HALF_M", "start_m + (w ^ k) * HALF_M"),
        ("row0 = start_m + WG * HALF_M", "row0 = start_m + (WG ^ k) * HALF_M")]
# Half-precision exp2: the exponent (at most 0) rounded to T, then two exponentials an instruction
# (ex2.approx.f16x2, or ex2.approx.ftz.bf16x2 on sm_90); P comes out in T, the row sum from it.
H2 = [("""LN2 = gl.constexpr(0.6931471805599453)
""", """LN2 = gl.constexpr(0.6931471805599453)


@gluon.jit
def _exp2_h(x):
    if x.dtype == gl.float16:
        return gl.inline_asm_elementwise("ex2.approx.f16x2 $0, $1;", "=r,r", [x], dtype=gl.float16, is_pure=True,
                                         pack=2)
    else:
        return gl.inline_asm_elementwise("ex2.approx.ftz.bf16x2 $0, $1;", "=r,r", [x], dtype=gl.bfloat16,
                                         is_pure=True, pack=2)
"""),
      ("p = gl.exp2(s - m_sub[:, None])", "p = _exp2_h((s - m_sub[:, None]).to(dtype))"),
      ("p = gl.exp2(s * qk_scale - m_new[:, None])", "p = _exp2_h((s * qk_scale - m_new[:, None]).to(dtype))"),
      ("l_i = l_i * alpha + gl.sum(p, 1)", "l_i = l_i * alpha + gl.sum(p.to(gl.float32), 1)")]
# Timing-only ablations (wrong results; bench them, do not check them): each removes one part.
def _nosoftmax(src):
    """P = S as it comes (no max, exp or sum): what is left is the MMAs, barriers and stores."""
    a = src.index("    if MASK:\n        # Masked after scaling")
    b = src.index("    return p_op, alpha, m_new, l_i")
    return src[:a] + """    p_op = gl.convert_layout(s.to(dtype), p_layout)
    alpha = gl.full_like(m_i, 1.0)
    m_new = m_i
""" + src[b:]


def _nostore(src):
    """The epilogue reduced to one fp32 store a row (acc kept alive through its row sum)."""
    a = src.index("            seen = l_i > 0.0\n")
    b = src.index("            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, lse, mask=rows < seq_q)\n")
    b += len("            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, lse, mask=rows < seq_q)\n")
    return src[:a] + """            keep = gl.convert_layout(gl.sum(acc, 1), gl.SliceLayout(1, s_layout))
            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, m_i + l_i + keep, mask=rows < seq_q)
""" + src[b:]


# A cheaper mask: one comparison a score against a per-row limit (the last key the row sees,
# relative to the block), instead of the column index against seq_kv and against the diagonal.
CHEAPMASK = [("""        s = s * qk_scale
        cols = start_n + gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))
        keep = cols[None, :] < seq_kv
        if IS_CAUSAL:
            keep = keep & (cols[None, :] <= rows[:, None] + causal_offset)
        s = gl.where(keep, s, float("-inf"))""",
              """        s = s * qk_scale
        cols = gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))
        if IS_CAUSAL:
            limit = gl.minimum(rows + causal_offset, seq_kv - 1) - start_n
        else:
            limit = rows * 0 + (seq_kv - 1 - start_n)
        s = gl.where(cols[None, :] <= limit[:, None], s, float("-inf"))""")]


ABLATIONS = {
    "nomask": [("""                                                 BLOCK_N, True, IS_CAUSAL)""",
                """                                                 BLOCK_N, False, IS_CAUSAL)"""),
               ("dtype, p_layout, o_layout, BLOCK_N, STAGES, True, IS_CAUSAL)",
                "dtype, p_layout, o_layout, BLOCK_N, STAGES, False, IS_CAUSAL)")],
    "noexp": [("p = gl.exp2(s - m_sub[:, None])", "p = s - m_sub[:, None]"),
              ("p = gl.exp2(s * qk_scale - m_new[:, None])", "p = s * qk_scale - m_new[:, None]")],
    "nostore": [_nostore],
    "nosoftmax": [_nosoftmax],
}
VARIANTS = {
    "base": [],
    "h2": [M0] + H2,
    "m0": [M0],
    "m0swap": [M0] + SWAP,
    "pfi": "attn_pfi.patch",  # by hand (see above), a patch against the kernel at b3d2594
    "swap": SWAP,
}
VARIANTS["cheapmask"] = CHEAPMASK
VARIANTS["poly"] = "attn_poly.patch"  # a quarter of the unmasked exp2s as a polynomial on the FMA pipe
VARIANTS["hd"] = "attn_hd.patch"  # 128-key blocks: a last block whose second half is unseen, computed over its first
VARIANTS.update(ABLATIONS)
# config name: (variant, BLOCK_N)
CFGS = {f"{v}{n}": (v, n) for v in VARIANTS for n in (64, 128)}


def module(variant):
    """The variant's kernel module, written next to this file as attn_<variant>.py."""
    import sm90_variants
    edits = VARIANTS[variant]
    if isinstance(edits, str):  # a patch file next to this one
        src, edits = sm90_variants.patched(SRC, os.path.join(HERE, edits)), []
    else:
        src = open(SRC).read()
    return sm90_variants.variant_module(HERE, variant, sm90_variants.edited(src, edits))


if __name__ == "__main__":
    import sm90_variants
    sm90_variants.main(sm90_variants.launch_maker(module, CFGS), __file__)
