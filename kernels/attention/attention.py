"""Attention forward, the portable member of the attention family (specs: attention.toml for
[B, H, S, D] tensors, attention_bshd.toml for [B, S, H, D]; attention_fp8.toml and
attention_fp8_vt.toml for FP8 inputs on sm_90). Plain Triton: it compiles for sm_80 and sm_90
(where tl.dot becomes wgmma).

Host-side semantics (for a reference):
    Q: [batch, heads_q, seq_q, D] (BSHD = False) or [batch, seq_q, heads_q, D] (BSHD = True),
    K, V: the same with heads_kv and seq_kv, O like Q, all of one dtype T (fp16 or bf16), dense.
    With V_T = True (only with BSHD = False), V is given transposed: [batch, heads_kv, D, seq_kv],
    dense, so key j's value vector is column j of its head's [D, seq_kv] matrix.
    The FP8 specs: Q, K and V in one FP8 dtype (e4m3 or e5m2), O in fp16 or bf16.
    LSE: fp32 [batch, heads_q, seq_q] in either layout.
    Grouped-query attention: query head h reads key/value head h // (heads_q // heads_kv)
    (heads_kv divides heads_q; heads_kv == heads_q is plain multi-head attention).
    For query row i and key j, s_ij = sm_scale * Q_i . K_j (fp32 accumulation). With IS_CAUSAL,
    key j is visible to row i when j <= i + (seq_kv - seq_q): the diagonal is aligned to the
    bottom-right corner, as FlashAttention does (a query block that is the last rows of a longer
    key sequence, such as decoding, sees every key up to its own position). Without it, every key
    is visible. Over the visible keys: O_i = sum_j exp(s_ij - m_i) V_j / l_i and
    LSE_i = m_i + log(l_i) (natural log), with m_i = max_j s_ij and l_i = sum_j exp(s_ij - m_i).
    A row that sees no key (causal with seq_q > seq_kv, or seq_kv == 0) gets O_i = 0 and
    LSE_i = -inf.
    The softmax numerators are rounded to T before the product with V (tensor cores take T).

Any seq_q, seq_kv >= 0: rows and keys past the ends are masked; nothing outside the tensors is
read or written. Offsets are int64. Grid: (cdiv(seq_q, BLOCK_M), batch * heads_q, 1).

V_T is for FP8 on sm_90: there FP8 wgmma takes its B operand only K-major, that is V's tile
contiguous along the keys. Triton 3.6 keeps a V tile loaded from [.., seq_kv, D] in the other
order and transposes it through shared memory on every iteration; loaded from V^T, the tile is
K-major as read and goes through the cp.async pipeline like K (seen in the TTGIR; not yet timed).
The result is the same either way; no fp16 or bf16 spec sets it.

The scalar `causal` is not read: it is the launch's switch, and the spec's heuristic for IS_CAUSAL
(causal != 0) picks the variant compiled for it.
"""

import triton
import triton.language as tl


@triton.jit
def _attend_block(acc, l_i, m_i, q, k_base, v_base, kv_row, rows, start_n, seq_kv, causal_offset, qk_scale,
                  HEAD_DIM: tl.constexpr, BLOCK_N: tl.constexpr, CAUSAL_MASK: tl.constexpr,
                  BOUNDS_MASK: tl.constexpr, V_T: tl.constexpr):
    """Keys [start_n, start_n + BLOCK_N): updates the running (acc, l_i, m_i) of the rows.

    m_i is the running row max in base-2 units (scores times log2(e)), l_i the running sum of
    exp2(score - m_i), acc the unnormalized output. The V tile is [BLOCK_N, HEAD_DIM] in either
    layout: with V_T its elements are read from the head's [HEAD_DIM, seq_kv] matrix.
    """
    cols = start_n + tl.arange(0, BLOCK_N)
    dims = tl.arange(0, HEAD_DIM)
    k_ptrs = k_base + cols[:, None].to(tl.int64) * kv_row + dims[None, :]
    if V_T:
        v_ptrs = v_base + cols[:, None].to(tl.int64) + dims[None, :].to(tl.int64) * seq_kv
    else:
        v_ptrs = v_base + cols[:, None].to(tl.int64) * kv_row + dims[None, :]
    if BOUNDS_MASK:
        col_ok = cols < seq_kv
        k = tl.load(k_ptrs, mask=col_ok[:, None], other=0.0)
        v = tl.load(v_ptrs, mask=col_ok[:, None], other=0.0)
    else:
        k = tl.load(k_ptrs)
        v = tl.load(v_ptrs)
    s = tl.dot(q, tl.trans(k)) * qk_scale
    if BOUNDS_MASK:
        # Masked after scaling: a negative sm_scale would turn a -inf fill into +inf.
        keep = cols[None, :] < seq_kv
        if CAUSAL_MASK:
            keep = keep & (cols[None, :] <= rows[:, None] + causal_offset)
        s = tl.where(keep, s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    # A row that has seen no visible key yet has m_new = -inf; subtracting 0 instead keeps
    # -inf - -inf (NaN) out of alpha and p, which are then 0.
    m_sub = tl.where(m_new == float("-inf"), 0.0, m_new)
    alpha = tl.math.exp2(m_i - m_sub)
    p = tl.math.exp2(s - m_sub[:, None])
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v)
    return acc, l_i, m_new


@triton.jit
def attention_fwd(Q, K, V, O, LSE, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, causal,
                  HEAD_DIM: tl.constexpr, IS_CAUSAL: tl.constexpr, BSHD: tl.constexpr, V_T: tl.constexpr,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    tl.static_assert(not (BSHD and V_T), "V_T (V as [batch, heads_kv, D, seq_kv]) needs BSHD = False")
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    b = (pid_bh // heads_q).to(tl.int64)
    h = (pid_bh % heads_q).to(tl.int64)
    h_kv = h // (heads_q // heads_kv)
    # Element strides of a row, a head and a batch of each layout (dense tensors).
    if BSHD:
        q_row = heads_q * HEAD_DIM
        q_head = HEAD_DIM
        kv_row = heads_kv * HEAD_DIM
        kv_head = HEAD_DIM
    else:
        q_row = HEAD_DIM
        q_head = tl.cast(seq_q, tl.int64) * HEAD_DIM
        kv_row = HEAD_DIM
        kv_head = tl.cast(seq_kv, tl.int64) * HEAD_DIM
    q_batch = heads_q * tl.cast(seq_q, tl.int64) * HEAD_DIM
    kv_batch = heads_kv * tl.cast(seq_kv, tl.int64) * HEAD_DIM
    q_base = Q + b * q_batch + h * q_head
    o_base = O + b * q_batch + h * q_head
    k_base = K + b * kv_batch + h_kv * kv_head
    # With V_T the head is [HEAD_DIM, seq_kv]: the same size, so the same base.
    v_base = V + b * kv_batch + h_kv * kv_head

    start_m = pid_m * BLOCK_M
    rows = start_m + tl.arange(0, BLOCK_M)
    row_ok = rows < seq_q
    dims = tl.arange(0, HEAD_DIM)
    q = tl.load(q_base + rows[:, None].to(tl.int64) * q_row + dims[None, :], mask=row_ok[:, None], other=0.0)

    qk_scale = sm_scale * 1.4426950408889634  # log2(e): exp(x) == exp2(x * log2(e))
    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)

    # Keys [0, lo) are visible to every row of this block and inside the sequence: no mask.
    # Keys [lo, hi) need the bounds mask and, causal, the diagonal's.
    causal_offset = seq_kv - seq_q
    if IS_CAUSAL:
        # Row start_m, the block's first, sees keys j <= start_m + causal_offset; the last row
        # sees up to start_m + BLOCK_M - 1 + causal_offset.
        lo = tl.maximum(tl.minimum(start_m + causal_offset + 1, seq_kv), 0) // BLOCK_N * BLOCK_N
        hi = tl.maximum(tl.minimum(start_m + BLOCK_M + causal_offset, seq_kv), 0)
    else:
        lo = seq_kv // BLOCK_N * BLOCK_N
        hi = seq_kv
    for start_n in range(0, lo, BLOCK_N):
        acc, l_i, m_i = _attend_block(acc, l_i, m_i, q, k_base, v_base, kv_row, rows, start_n, seq_kv,
                                      causal_offset, qk_scale, HEAD_DIM, BLOCK_N, False, False, V_T)
    for start_n in range(lo, hi, BLOCK_N):
        acc, l_i, m_i = _attend_block(acc, l_i, m_i, q, k_base, v_base, kv_row, rows, start_n, seq_kv,
                                      causal_offset, qk_scale, HEAD_DIM, BLOCK_N, IS_CAUSAL, True, V_T)

    seen = l_i > 0.0
    out = acc / tl.where(seen, l_i, 1.0)[:, None]
    tl.store(o_base + rows[:, None].to(tl.int64) * q_row + dims[None, :], out.to(O.dtype.element_ty),
             mask=row_ok[:, None])
    # Natural log: LSE = (m_i + log2(l_i)) * ln(2), m_i being in base-2 units.
    lse = tl.where(seen, (m_i + tl.math.log2(tl.where(seen, l_i, 1.0))) * 0.6931471805599453, float("-inf"))
    tl.store(LSE + pid_bh.to(tl.int64) * seq_q + rows, lse, mask=row_ok)
