"""Decode attention with split-KV: the attention family's member for short queries (seq_q 1..16
rows per head) against long key/value caches. Plain Triton, sm_80 and sm_90.

Same semantics as attention.py (kernels/attention/attention.toml): O = softmax(sm_scale * Q K^T) V
per query head, grouped-query heads (query head h reads KV head h / (heads_q / heads_kv)), causal
aligned bottom-right (key j visible to query row i when j <= i + seq_kv - seq_q), LSE = the fp32
natural-log log-sum-exp; a row that sees no key gets O = 0 and LSE = -inf. [B, H, S, D] tensors,
or [B, S, H, D] with BSHD (LSE is [B, heads_q, seq_q] in both).

One attention takes two launches of this function, the spec's two steps (PHASE 0 then 1):

PHASE 0, grid (splits, batch * heads_kv): the keys are cut into `splits` chunks of whole BLOCK_N
  blocks. Program (s, b * heads_kv + g) takes every query row that reads KV head g (the group's
  heads_q / heads_kv heads x seq_q rows: one K/V stream serves the whole group, which is what
  makes grouped-query decoding cheap) against chunk s, and writes that chunk's normalized output
  and log-sum-exp to the fp32 partials OP [splits, B, heads_q, seq_q, D] and LP [splits, B,
  heads_q, seq_q]. A chunk a row sees nothing of gives LSE -inf. Decoding is bound by reading K
  and V once; the splits give the GPU enough programs to stream them at full bandwidth when
  batch * heads_kv alone is far less than the SM count.
PHASE 1, grid (cdiv(batch * heads_q * seq_q, BLOCK_R),): BLOCK_R rows a program, BLOCK_S splits
  at a time: LSE = logsumexp over the splits of LP, O = sum_s exp(LP_s - LSE) OP_s. (One row a
  program was 1.2-1.45x slower end to end with 16 query rows: 4096 programs of a few loads each.)

USE_PDL (sm_90 on; the configs with launch_pdl set it): each launch may start while the launch
  before it on the stream still runs (programmatic dependent launch). Both steps wait for that
  launch (griddepcontrol.wait) before they touch global memory: the step before PHASE 1 is this
  attention's PHASE 0, whose partials it reads; the one before PHASE 0 may be whatever wrote Q, K
  and V, or the previous attention's PHASE 1, still reading the partials PHASE 0 overwrites.
  PHASE 0 lets the PHASE 1 launch begin (griddepcontrol.launch_dependents) once each of its
  programs has stored its partials, so PHASE 1's launch overlaps PHASE 0's last programs instead
  of following them. Measured on an H200 (B8 H32/8 D128, 1 and 16 query rows, 1k-32k keys):
  1.006-1.07x faster than without it with L2 flushed, 0.99-1.04x in a CUDA graph of 20 calls;
  letting PHASE 1 begin at the start of PHASE 0 instead was up to 1.3x slower with one query row
  (PHASE 1's early programs waiting on the SMs cost more than the gap).
"""
import triton
import triton.language as tl

from attention import _attend_block  # the portable member's online-softmax step over one key block


@triton.jit
def _q_offset(b, h, pos, heads_q, seq_q, HEAD_DIM: tl.constexpr, BSHD: tl.constexpr):
    # Element offset of query row (b, h, pos) in Q / O.
    if BSHD:
        return ((b * seq_q + pos) * heads_q + h) * HEAD_DIM
    else:
        return ((b * heads_q + h) * seq_q + pos) * HEAD_DIM


@triton.jit
def _partial(Q, K, V, OP, LP, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, splits,
             HEAD_DIM: tl.constexpr, IS_CAUSAL: tl.constexpr, BSHD: tl.constexpr,
             BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    split = tl.program_id(0)
    pid_bg = tl.program_id(1)
    b = (pid_bg // heads_kv).to(tl.int64)
    g = (pid_bg % heads_kv).to(tl.int64)
    group = heads_q // heads_kv
    # Keys of this split: whole BLOCK_N blocks, the last split possibly short or empty.
    chunk = tl.cdiv(tl.cdiv(seq_kv, splits), BLOCK_N) * BLOCK_N
    lo = split * chunk
    hi = tl.minimum(lo + chunk, seq_kv)
    if BSHD:
        kv_row = heads_kv * HEAD_DIM
        kv_base = b * seq_kv * kv_row + g * HEAD_DIM
    else:
        kv_row = HEAD_DIM
        kv_base = (b * heads_kv + g) * seq_kv * HEAD_DIM
    dims = tl.arange(0, HEAD_DIM)
    qk_scale = sm_scale * 1.4426950408889634  # log2(e): exp(x) == exp2(x * log2(e))
    causal_offset = seq_kv - seq_q
    n_rows = group * seq_q
    rows_total = batch.to(tl.int64) * heads_q * seq_q
    # The group's rows, BLOCK_M at a time (one block for up to BLOCK_M rows, the usual case).
    for r0 in range(0, n_rows, BLOCK_M):
        r = r0 + tl.arange(0, BLOCK_M)
        row_ok = r < n_rows
        h = g * group + r // seq_q
        pos = r % seq_q
        q_off = _q_offset(b, h, pos, heads_q, seq_q, HEAD_DIM, BSHD)
        q = tl.load(Q + q_off[:, None] + dims[None, :], mask=row_ok[:, None], other=0.0)
        m_i = tl.full([BLOCK_M], float("-inf"), dtype=tl.float32)
        l_i = tl.zeros([BLOCK_M], dtype=tl.float32)
        acc = tl.zeros([BLOCK_M, HEAD_DIM], dtype=tl.float32)
        # Keys [lo, hi) are this chunk's: the bounds mask is against hi; causal, row r is the
        # query position pos (the diagonal is bottom-right against seq_kv).
        for start in range(lo, hi, BLOCK_N):
            acc, l_i, m_i = _attend_block(acc, l_i, m_i, q, K + kv_base, V + kv_base, kv_row, pos, start, hi,
                                          causal_offset, qk_scale, HEAD_DIM, BLOCK_N, IS_CAUSAL, True, False)
        seen = l_i > 0.0
        l_safe = tl.where(seen, l_i, 1.0)
        out = acc / l_safe[:, None]
        lse = tl.where(seen, (m_i + tl.math.log2(l_safe)) * 0.6931471805599453, float("-inf"))
        # Partials are [splits, B, heads_q, seq_q, (D)] whatever the layout of Q and O.
        part = split * rows_total + (b * heads_q + h) * seq_q + pos
        tl.store(OP + part[:, None] * HEAD_DIM + dims[None, :], out, mask=row_ok[:, None])
        tl.store(LP + part, lse, mask=row_ok)


@triton.jit
def _combine(O, LSE, OP, LP, batch, heads_q, seq_q, splits,
             HEAD_DIM: tl.constexpr, BSHD: tl.constexpr, BLOCK_S: tl.constexpr, BLOCK_R: tl.constexpr):
    rows_total = batch.to(tl.int64) * heads_q * seq_q
    # BLOCK_R query rows a program: row = (b * heads_q + h) * seq_q + pos.
    row = tl.program_id(0).to(tl.int64) * BLOCK_R + tl.arange(0, BLOCK_R)
    row_ok = row < rows_total
    s_idx = tl.arange(0, BLOCK_S)
    # Each row's largest partial LSE, then the weights exp(LSE_s - max): a split whose rows saw no
    # key has LSE_s = -inf and weight 0 (its O_s is not read), as has a row past the end.
    m = tl.full([BLOCK_R, BLOCK_S], float("-inf"), dtype=tl.float32)
    for s0 in range(0, splits, BLOCK_S):
        s = s0 + s_idx
        ok = row_ok[:, None] & (s < splits)[None, :]
        m = tl.maximum(m, tl.load(LP + s[None, :] * rows_total + row[:, None], mask=ok, other=float("-inf")))
    m_max = tl.max(m, 1)
    m_sub = tl.where(m_max == float("-inf"), 0.0, m_max)
    dims = tl.arange(0, HEAD_DIM)
    total = tl.zeros([BLOCK_R, BLOCK_S], dtype=tl.float32)
    acc = tl.zeros([BLOCK_R, HEAD_DIM], dtype=tl.float32)
    for s0 in range(0, splits, BLOCK_S):
        s = s0 + s_idx
        ok = row_ok[:, None] & (s < splits)[None, :]
        lse_s = tl.load(LP + s[None, :] * rows_total + row[:, None], mask=ok, other=float("-inf"))
        w = tl.exp(lse_s - m_sub[:, None])
        total += w
        part = s[None, :] * rows_total + row[:, None]
        o_s = tl.load(OP + part[:, :, None] * HEAD_DIM + dims[None, None, :], mask=(w > 0.0)[:, :, None], other=0.0)
        acc += tl.sum(o_s * w[:, :, None], 1)
    l_sum = tl.sum(total, 1)
    seen = l_sum > 0.0
    l_safe = tl.where(seen, l_sum, 1.0)
    out = acc / l_safe[:, None]
    pos = row % seq_q
    bh = row // seq_q
    o_off = _q_offset(bh // heads_q, bh % heads_q, pos, heads_q, seq_q, HEAD_DIM, BSHD)
    tl.store(O + o_off[:, None] + dims[None, :], out.to(O.dtype.element_ty), mask=row_ok[:, None])
    tl.store(LSE + row, tl.where(seen, m_sub + tl.log(l_safe), float("-inf")), mask=row_ok)


@triton.jit
def attention_decode(Q, K, V, O, LSE, OP, LP, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, causal, splits,
                     HEAD_DIM: tl.constexpr, IS_CAUSAL: tl.constexpr, BSHD: tl.constexpr, PHASE: tl.constexpr,
                     BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_S: tl.constexpr, BLOCK_R: tl.constexpr,
                     USE_PDL: tl.constexpr):
    if USE_PDL:
        tl.extra.cuda.gdc_wait()
    if PHASE == 0:
        _partial(Q, K, V, OP, LP, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, splits, HEAD_DIM, IS_CAUSAL,
                 BSHD, BLOCK_M, BLOCK_N)
        if USE_PDL:
            tl.extra.cuda.gdc_launch_dependents()
    else:
        _combine(O, LSE, OP, LP, batch, heads_q, seq_q, splits, HEAD_DIM, BSHD, BLOCK_S, BLOCK_R)
