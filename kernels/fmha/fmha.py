"""Causal self-attention forward pass, FlashAttention style (online softmax), one pass over K/V.

    Out[b, h, i, :] = sum_{j <= i} softmax_j(sm_scale * Q[b, h, i, :] . K[b, h, j, :]) * V[b, h, j, :]

Interface (the one of TensorRT-LLM's manual Triton plugin, seed 01):

    fused_attention_kernel(Out, L, M, Q, K, V, sm_scale, batch_size, num_heads, seq_len,
                           BLOCK_M, BLOCK_DMODEL, BLOCK_N)

- Q, K, V, Out: dense, contiguous [B, H, S, D] tensors of one dtype (fp16, bf16 or fp32);
  there are no stride arguments, so D must equal BLOCK_DMODEL. Out has Q's dtype.
- L, M: fp32 [B * H, S], row-major: row `i` of head `bh` is at offset bh * seq_len + i.
  With s_ij = (Q[bh, i, :] . K[bh, j, :]) * sm_scale, in natural-log units:
      M[bh, i] = max_{j <= i} s_ij
      L[bh, i] = sum_{j <= i} exp(s_ij - M[bh, i])
  so logsumexp_i = M + log(L). The kernel works in base 2 (exp2) and converts before storing.
- sm_scale: fp32. batch_size, num_heads, seq_len: int32. batch_size and num_heads are not
  read by the kernel; they exist so an ahead-of-time grid expression can name them.
- Grid: (cdiv(seq_len, BLOCK_M), batch_size * num_heads, 1). Program (pid_m, pid_bh) computes
  rows [pid_m * BLOCK_M, pid_m * BLOCK_M + BLOCK_M) of head pid_bh.

Any seq_len >= 1 works: loads of Q, K, V are masked past seq_len and stores of Out, L and M
are masked too (the last, partial row block never writes past row seq_len - 1).
Accumulation is in fp32. For fp32 inputs the two matrix products use IEEE fp32, not TF32.

Limits: BLOCK_M must be a multiple of BLOCK_N (checked at compile time). The head's base
offset is computed in int64; offsets inside one head are int32, so seq_len * BLOCK_DMODEL
must stay below 2^31 (seq_len < 16M rows for D = 128).

Specs: fmha.toml (native tritonpack spec); tests/plugingen/fmha_kernel_config.py (PluginGen form).
"""

import triton
import triton.language as tl


@triton.jit
def _attend_block(acc, l_i, m_i, q, k_ptrs, v_ptrs, rows, start_n, seq_len, qk_scale,
                  BLOCK_DMODEL: tl.constexpr, BLOCK_N: tl.constexpr, MASKED: tl.constexpr,
                  PRECISION: tl.constexpr):
    """One key/value block [start_n, start_n + BLOCK_N): updates the running (acc, l_i, m_i).

    m_i is the running row max in base-2 units (scores multiplied by log2(e)); l_i the running
    sum of exp2(score - m_i); acc the running unnormalized output.
    """
    cols = start_n + tl.arange(0, BLOCK_N)
    offs = start_n * BLOCK_DMODEL
    if MASKED:
        col_ok = cols < seq_len
        k = tl.load(k_ptrs + offs, mask=col_ok[:, None], other=0.0)
        v = tl.load(v_ptrs + offs, mask=col_ok[:, None], other=0.0)
    else:
        k = tl.load(k_ptrs + offs)
        v = tl.load(v_ptrs + offs)
    s = tl.dot(q, tl.trans(k), input_precision=PRECISION) * qk_scale
    if MASKED:
        # Causal mask and the end of the sequence. Applied after scaling: a negative sm_scale
        # would turn a -inf fill into +inf. Every row has column 0 in its first block, so
        # m_i is finite from the first block on and no -inf - -inf appears.
        keep = (cols[None, :] <= rows[:, None]) & (cols[None, :] < seq_len)
        s = tl.where(keep, s, float("-inf"))
    m_new = tl.maximum(m_i, tl.max(s, 1))
    alpha = tl.math.exp2(m_i - m_new)
    p = tl.math.exp2(s - m_new[:, None])
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None] + tl.dot(p.to(v.dtype), v, input_precision=PRECISION)
    return acc, l_i, m_new


@triton.jit
def fused_attention_kernel(Out, L, M, Q, K, V, sm_scale, batch_size, num_heads, seq_len,
                           BLOCK_M: tl.constexpr, BLOCK_DMODEL: tl.constexpr, BLOCK_N: tl.constexpr):
    tl.static_assert(BLOCK_M % BLOCK_N == 0, "BLOCK_M must be a multiple of BLOCK_N")
    pid_m = tl.program_id(0)
    pid_bh = tl.program_id(1)
    # int64: B * H * S * D elements can exceed 2^31.
    head = pid_bh.to(tl.int64) * seq_len * BLOCK_DMODEL
    row_base = pid_bh.to(tl.int64) * seq_len

    start_m = pid_m * BLOCK_M
    rows = start_m + tl.arange(0, BLOCK_M)
    row_ok = rows < seq_len
    dcols = tl.arange(0, BLOCK_DMODEL)
    ncols = tl.arange(0, BLOCK_N)

    q = tl.load(Q + head + rows[:, None] * BLOCK_DMODEL + dcols[None, :], mask=row_ok[:, None], other=0.0)
    # fp32 inputs: IEEE products; fp16/bf16: the tensor-core path (the option only affects fp32).
    PRECISION: tl.constexpr = "ieee" if Q.dtype.element_ty == tl.float32 else "tf32"
    k_ptrs = K + head + ncols[:, None] * BLOCK_DMODEL + dcols[None, :]
    v_ptrs = V + head + ncols[:, None] * BLOCK_DMODEL + dcols[None, :]

    qk_scale = sm_scale * 1.4426950408889634  # log2(e): exp(x) == exp2(x * log2(e))
    m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
    l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
    acc = tl.zeros([BLOCK_M, BLOCK_DMODEL], dtype=tl.float32)

    # Blocks strictly left of the diagonal block: every key is visible to every row of this
    # block, and all of them are < start_m < seq_len, so no mask (BLOCK_M % BLOCK_N == 0).
    for start_n in range(0, start_m, BLOCK_N):
        acc, l_i, m_i = _attend_block(acc, l_i, m_i, q, k_ptrs, v_ptrs, rows, start_n, seq_len, qk_scale,
                                      BLOCK_DMODEL, BLOCK_N, False, PRECISION)
    # The diagonal block, cut at the end of the sequence: causal and bounds masks.
    hi = tl.minimum(start_m + BLOCK_M, seq_len)
    for start_n in range(start_m, hi, BLOCK_N):
        acc, l_i, m_i = _attend_block(acc, l_i, m_i, q, k_ptrs, v_ptrs, rows, start_n, seq_len, qk_scale,
                                      BLOCK_DMODEL, BLOCK_N, True, PRECISION)

    out = acc / l_i[:, None]
    tl.store(Out + head + rows[:, None] * BLOCK_DMODEL + dcols[None, :], out.to(Out.dtype.element_ty),
             mask=row_ok[:, None])
    # Natural-log units: M = max(s) where m_i = max(s * log2(e)); L is unchanged by the base.
    tl.store(M + row_base + rows, m_i * 0.6931471805599453, mask=row_ok)
    tl.store(L + row_base + rows, l_i, mask=row_ok)
