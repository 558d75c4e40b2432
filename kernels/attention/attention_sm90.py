"""Attention forward, the sm_90 member of the attention family (specs: attention_sm90.toml for
[B, H, S, D] tensors, attention_sm90_bshd.toml for [B, S, H, D]). Gluon: warp-specialized, one TMA
producer warp and two consumer warpgroups.

Host-side semantics are those of attention.py (the portable member), here with seq_q, seq_kv >= 1:
    Q [batch, heads_q, seq_q, D], K and V [batch, heads_kv, seq_kv, D] (or [B, S, H, D] with BSHD),
    O like Q, LSE fp32 [batch, heads_q, seq_q], dense, of one dtype T (fp16 or bf16). Query head h reads key/value head
    h // (heads_q // heads_kv). s_ij = sm_scale * Q_i . K_j; with IS_CAUSAL key j is visible to row i
    when j <= i + (seq_kv - seq_q) (bottom-right). O_i = softmax over the visible keys times V,
    LSE_i = m_i + log(l_i) (natural log); a row that sees no key gets O_i = 0 and LSE_i = -inf. The
    softmax numerators are rounded to T before the product with V.

Q, K and V come in through rank-4 TMA descriptors over the tensors as they are, [B, H, S, D], or
[B, S, H, D] with BSHD (blocks [1, 1, rows, D] or [1, rows, 1, D]): a block never spills into the
next head, as the descriptor clips at seq and fills zeros. O (same layout as Q, 16-byte aligned)
and LSE are written through pointers with masked stores, so nothing past seq_q is written.

Structure. The work is cut into units: a unit is one query tile (BLOCK_M rows of one head), or,
causal, two tiles of one head, query blocks i and n_m - 1 - i, which together read the same
number of key blocks for every unit (n_m + 1 when BLOCK_N == BLOCK_M and seq_q == seq_kv), so
every causal unit is the same work. The grid is (programs, 1, 1); program p serves
units p, p + programs, ...: any program count is correct, and the specs launch one program per SM
(persistent) unless there are fewer units. In each program:
  - the producer (1 warp) loads each tile's two query halves, then streams K and V blocks through a
    ring of STAGES buffers: it waits until both consumers have released a slot (k_empty / v_empty,
    two arrivals each), then issues the TMA copies that complete k_ready / v_ready. Its ring
    position and the barrier phases run on across tiles, so the next tile's loads overlap this
    tile's last products and stores;
  - consumer w (4 warps, one warpgroup) owns query rows [w * BLOCK_M / 2, (w + 1) * BLOCK_M / 2) and
    runs the online softmax over the tile's key blocks (causal, the first warpgroup's rows may end a
    block sooner: it releases that block unread): each step issues S = Q K^T of a block and
    O += P V of the block before it as asynchronous wgmma, waits for S only, and does its softmax
    while the P V product runs (P stays in registers as the A operand). (Making the two warpgroups
    take turns issuing, FlashAttention-3's ping-pong, measured slower here with an mbarrier
    turnstile.)
  - Key blocks that every row of a warpgroup sees in full (no bound, no diagonal) skip the mask.
    The tile's first block has no P V product to overlap. In key order (block 0 up), it is masked
    too: with the diagonal, two masked blocks a warpgroup a tile. With DESCENDING (causal only;
    a config of the specs, which `tritonpack tune` picks per shape) a tile reads its blocks from
    the last down, so the masked ones come first, the first block is one of them (one masked block
    a warpgroup a tile when seq_q == seq_kv), and the mask is one comparison a score. P then
    crosses each step in fp32 and becomes the wgmma operand at the P V product (_operand). Measured
    on an H200 through Gluon's JIT with 128-key blocks, as a fraction of SDPA cuDNN: D 64 causal
    1024 0.76 in key order, 0.93 descending; from 2048 keys, at most 3% behind key order and up to
    7% ahead (0.97-1.08).
  - O leaves in 16-byte row pieces (the accumulator moved through shared memory).
Units of one head are consecutive (programs running together share its K and V in L2).
"""

from triton.experimental import gluon
from triton.experimental.gluon import language as gl
from triton.experimental.gluon.language.nvidia.hopper import (fence_async_shared, mbarrier, tma, warpgroup_mma,
                                                              warpgroup_mma_wait)

LOG2E = gl.constexpr(1.4426950408889634)
LN2 = gl.constexpr(0.6931471805599453)


@gluon.jit
def _units(n_m, bh_count, IS_CAUSAL: gl.constexpr):
    """How many work units the launch has: causal, a pair of query blocks of one head; else one."""
    if IS_CAUSAL:
        return (n_m + 1) // 2 * bh_count
    else:
        return n_m * bh_count


@gluon.jit
def _unit(u, n_m, IS_CAUSAL: gl.constexpr):
    """Work unit u -> (batch * head, first query block, second query block, block count). Units of
    one head are consecutive (programs running together share its K and V in L2). Causal, unit i
    of a head is its query blocks n_m - 1 - i then i: every unit reads the same number of key
    blocks (the middle block of an odd n_m alone, about half as many), so a static round-robin of
    units over the programs is balanced, and the heavier block comes first."""
    if IS_CAUSAL:
        per_head = (n_m + 1) // 2
        i = u % per_head
        return u // per_head, n_m - 1 - i, i, 2 - (2 * i + 1 == n_m).to(gl.int32)
    else:
        return u // n_m, u % n_m, u % n_m, 1


@gluon.jit
def _coord(b, h, row, BSHD: gl.constexpr):
    """A block's coordinates in a rank-4 descriptor over [B, H, S, D] or [B, S, H, D]."""
    if BSHD:
        return [b, row, h, 0]
    else:
        return [b, h, row, 0]


@gluon.jit
def _key_blocks(start_m, seq_q, seq_kv, BLOCK_M: gl.constexpr, BLOCK_N: gl.constexpr, IS_CAUSAL: gl.constexpr):
    """Number of key blocks the tile [start_m, start_m + BLOCK_M) reads (producer and consumers agree)."""
    if IS_CAUSAL:
        hi = gl.minimum(gl.maximum(start_m + BLOCK_M + seq_kv - seq_q, 0), seq_kv)
    else:
        hi = seq_kv
    return (hi + BLOCK_N - 1) // BLOCK_N


@gluon.jit
def _block(t, n, DESC: gl.constexpr):
    """The key block at a tile's t-th ring position of n: with DESC from the last down, else from 0 up."""
    if DESC:
        return n - 1 - t
    else:
        return t


@gluon.jit
def _release(count, first, last, k_ready, v_ready, k_empty, v_empty, STAGES: gl.constexpr):
    """Ring positions count + [first, last) of a tile that this warpgroup does not read: released
    once loaded (a slot is refilled only after both warpgroups released it, so none may release
    early)."""
    for j in range(first, last):
        c = count + j
        mbarrier.wait(k_ready.index(c % STAGES), (c // STAGES) & 1)
        mbarrier.arrive(k_empty.index(c % STAGES), count=1)
        mbarrier.wait(v_ready.index(c % STAGES), (c // STAGES) & 1)
        mbarrier.arrive(v_empty.index(c % STAGES), count=1)


@gluon.jit
def _load_kv(desc, bufs, ready, empty, b, h_kv, j, count, BLOCK_N: gl.constexpr, STAGES: gl.constexpr,
             BSHD: gl.constexpr):
    """Key or value block j into ring slot count % STAGES, once both consumers released it."""
    slot = count % STAGES
    # A fresh barrier counts as having completed the phase before phase 0: the first round's
    # waits (parity 1) pass at once.
    mbarrier.wait(empty.index(slot), ((count // STAGES) & 1) ^ 1)
    mbarrier.expect(ready.index(slot), desc.block_type.nbytes)
    tma.async_copy_global_to_shared(desc, _coord(b, h_kv, j * BLOCK_N, BSHD), ready.index(slot),
                                    bufs.index(slot)._reinterpret(desc.dtype, desc.block_type.shape, desc.layout))


@gluon.jit
def _producer(q_desc, k_desc, v_desc, q_bufs, k_bufs, v_bufs, q_ready, q_empty, k_ready, v_ready, k_empty, v_empty,
              heads_q, heads_kv, seq_q, seq_kv, n_m, n_units, BLOCK_M: gl.constexpr, BLOCK_N: gl.constexpr,
              STAGES: gl.constexpr, IS_CAUSAL: gl.constexpr, DESC: gl.constexpr, BSHD: gl.constexpr):
    dtype: gl.constexpr = q_desc.dtype
    HALF_M: gl.constexpr = BLOCK_M // 2
    count = 0
    tiles_done = 0
    for u in range(gl.program_id(0), n_units, gl.num_programs(0)):
        bh_q, first_m, second_m, n_in_unit = _unit(u, n_m, IS_CAUSAL)
        for k in range(0, n_in_unit):
            pid_m = first_m + (second_m - first_m) * k
            start_m = pid_m * BLOCK_M
            b = bh_q // heads_q
            h = bh_q % heads_q
            h_kv = h // (heads_q // heads_kv)
            n_blocks = _key_blocks(start_m, seq_q, seq_kv, BLOCK_M, BLOCK_N, IS_CAUSAL)
            # The first key block goes out before the query halves: its slot is usually free while a
            # consumer still holds the previous tile's query.
            if n_blocks > 0:
                _load_kv(k_desc, k_bufs, k_ready, k_empty, b, h_kv, _block(0, n_blocks, DESC), count, BLOCK_N, STAGES,
                         BSHD)
            for w in gl.static_range(2):
                mbarrier.wait(q_empty.index(w), (tiles_done & 1) ^ 1)
                mbarrier.expect(q_ready.index(w), q_desc.block_type.nbytes)
                tma.async_copy_global_to_shared(q_desc, _coord(b, h, start_m + w * HALF_M, BSHD), q_ready.index(w),
                                                q_bufs.index(w)._reinterpret(dtype, q_desc.block_type.shape,
                                                                             q_desc.layout))
            if n_blocks > 0:
                _load_kv(v_desc, v_bufs, v_ready, v_empty, b, h_kv, _block(0, n_blocks, DESC), count, BLOCK_N, STAGES,
                         BSHD)
            for t in range(1, n_blocks):
                j = _block(t, n_blocks, DESC)
                _load_kv(k_desc, k_bufs, k_ready, k_empty, b, h_kv, j, count + t, BLOCK_N, STAGES, BSHD)
                _load_kv(v_desc, v_bufs, v_ready, v_empty, b, h_kv, j, count + t, BLOCK_N, STAGES, BSHD)
            count += n_blocks
            tiles_done += 1


@gluon.jit
def _softmax(s, m_i, l_i, rows, start_n, seq_kv, causal_offset, qk_scale, dtype: gl.constexpr,
             p_layout: gl.constexpr, BLOCK_N: gl.constexpr, MASK: gl.constexpr, IS_CAUSAL: gl.constexpr,
             DESC: gl.constexpr):
    """One key block of the online softmax; m_i in base-2 units. Returns (P, alpha, m, l): P as the
    P V wgmma's A operand, or with DESC still in fp32 (_operand converts it at the product)."""
    if MASK:
        # Masked after scaling: a negative sm_scale would turn a -inf fill into +inf.
        s = s * qk_scale
        if DESC:
            # Causal: one comparison a score, the column against the last key the row sees,
            # relative to the block (the diagonal and seq_kv in one per-row limit).
            limit = gl.minimum(rows + causal_offset, seq_kv - 1) - start_n
            keep = gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))[None, :] <= limit[:, None]
        else:
            cols = start_n + gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))
            keep = cols[None, :] < seq_kv
            if IS_CAUSAL:
                keep = keep & (cols[None, :] <= rows[:, None] + causal_offset)
        s = gl.where(keep, s, float("-inf"))
        m_new = gl.maximum(m_i, gl.max(s, 1))
        # A row that has seen no visible key yet: subtract 0, not -inf (which would give NaN).
        m_sub = gl.where(m_new == float("-inf"), 0.0, m_new)
        alpha = gl.exp2(m_i - m_sub)
        p = gl.exp2(s - m_sub[:, None])
    else:
        # Every score is finite: the row max of the raw scores, scaled once (a negative scale turns
        # it into the min), and one fused multiply-add a score.
        if qk_scale >= 0:
            m_blk = gl.max(s, 1)
        else:
            m_blk = gl.min(s, 1)
        m_new = gl.maximum(m_i, m_blk * qk_scale)
        alpha = gl.exp2(m_i - m_new)
        p = gl.exp2(s * qk_scale - m_new[:, None])
    l_i = l_i * alpha + gl.sum(p, 1)
    if not DESC:
        p = gl.convert_layout(p.to(dtype), p_layout)
    return p, alpha, m_new, l_i


@gluon.jit
def _operand(p, dtype: gl.constexpr, p_layout: gl.constexpr, DESC: gl.constexpr):
    """P as the P V wgmma's A operand. Descending, P crosses the step in fp32 and is converted here:
    converted at the end of the softmax, ptxas swaps the 16-bit halves of every P register (32
    PRMT a step) in the loop a tile runs second, which descending is the long unmasked one.
    Ascending keeps the conversion in the softmax: converted here it measured 2-5% slower on
    non-causal rows."""
    if DESC:
        p = gl.convert_layout(p.to(dtype), p_layout)
    return p


@gluon.jit
def _step(j, count, q, k_bufs, v_bufs, k_ready, v_ready, k_empty, v_empty, acc, p_op, m_i, l_i, zero_s, rows, seq_kv,
          causal_offset, qk_scale, dtype: gl.constexpr, p_layout: gl.constexpr, o_layout: gl.constexpr,
          BLOCK_N: gl.constexpr, STAGES: gl.constexpr, MASK: gl.constexpr, IS_CAUSAL: gl.constexpr,
          DESC: gl.constexpr):
    """Key block j at ring position count, not the tile's first: S_j = Q K_j^T and O += P V of the
    block at position count - 1 in flight together, then the softmax of S_j while that P V
    finishes."""
    slot = count % STAGES
    prev = (count - 1) % STAGES
    mbarrier.wait(k_ready.index(slot), (count // STAGES) & 1)
    s_tok = warpgroup_mma(q, k_bufs.index(slot).permute((1, 0)), zero_s, use_acc=False, is_async=True)
    mbarrier.wait(v_ready.index(prev), ((count - 1) // STAGES) & 1)
    acc_tok = warpgroup_mma(_operand(p_op, dtype, p_layout, DESC), v_bufs.index(prev), acc, is_async=True)
    # Groups retire in issue order: with one outstanding, S_j is done.
    s = warpgroup_mma_wait(1, deps=(s_tok, ))
    mbarrier.arrive(k_empty.index(slot), count=1)
    p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, j * BLOCK_N, seq_kv, causal_offset, qk_scale, dtype, p_layout,
                                     BLOCK_N, MASK, IS_CAUSAL, DESC)
    acc = warpgroup_mma_wait(0, deps=(acc_tok, ))
    mbarrier.arrive(v_empty.index(prev), count=1)
    acc = acc * gl.convert_layout(alpha, gl.SliceLayout(1, o_layout))[:, None]
    return acc, p_op, m_i, l_i


@gluon.jit
def _consumer(q_bufs, k_bufs, v_bufs, q_ready, q_empty, k_ready, v_ready, k_empty, v_empty, O, LSE, sm_scale,
              heads_q, seq_q, seq_kv, n_m, n_units, WG: gl.constexpr, BLOCK_M: gl.constexpr, BLOCK_N: gl.constexpr,
              HEAD_DIM: gl.constexpr, STAGES: gl.constexpr, IS_CAUSAL: gl.constexpr, DESC: gl.constexpr,
              BSHD: gl.constexpr):
    dtype: gl.constexpr = q_bufs.dtype
    HALF_M: gl.constexpr = BLOCK_M // 2
    s_layout: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[4, 1],
                                                       instr_shape=[16, BLOCK_N, 16])
    o_layout: gl.constexpr = gl.NVMMADistributedLayout(version=[3, 0], warps_per_cta=[4, 1],
                                                       instr_shape=[16, HEAD_DIM, 16])
    p_layout: gl.constexpr = gl.DotOperandLayout(operand_index=0, parent=o_layout, k_width=2)
    qk_scale = sm_scale * LOG2E
    causal_offset = seq_kv - seq_q
    zero_s = gl.zeros([HALF_M, BLOCK_N], gl.float32, s_layout)
    q = q_bufs.index(WG)
    count = 0
    tiles_done = 0
    for u in range(gl.program_id(0), n_units, gl.num_programs(0)):
        bh_q, first_m, second_m, n_in_unit = _unit(u, n_m, IS_CAUSAL)
        for k in range(0, n_in_unit):
            pid_m = first_m + (second_m - first_m) * k
            start_m = pid_m * BLOCK_M
            row0 = start_m + WG * HALF_M
            rows = row0 + gl.arange(0, HALF_M, gl.SliceLayout(1, s_layout))
            # The tile's key blocks (the producer loads them all) and this warpgroup's: causal, the
            # first half's rows may end a block sooner (with 64-key blocks, one block a tile).
            n_tile = _key_blocks(start_m, seq_q, seq_kv, BLOCK_M, BLOCK_N, IS_CAUSAL)
            n_blocks = _key_blocks(row0, seq_q, seq_kv, HALF_M, BLOCK_N, IS_CAUSAL)
            # Blocks [0, n_full) lie inside seq_kv and, causal, left of this warpgroup's first row's
            # diagonal: no mask. The rest are masked, and so is the tile's first block.
            if IS_CAUSAL:
                n_full = gl.minimum(gl.maximum(row0 + causal_offset + 1, 0) // BLOCK_N, seq_kv // BLOCK_N)
            else:
                n_full = seq_kv // BLOCK_N
            if DESC:
                # From the last block down: the tile's blocks past this warpgroup's rows are its
                # first ring positions, then positions [1, first_loop) masked, the rest not.
                pos = count + n_tile - n_blocks
                _release(count, 0, n_tile - n_blocks, k_ready, v_ready, k_empty, v_empty, STAGES)
                first_loop = n_blocks - n_full
            else:
                # From block 0 up: positions [1, first_loop) unmasked, the rest masked; the tile's
                # blocks past this warpgroup's rows are its last ring positions.
                pos = count
                first_loop = n_full
            m_i = gl.full([HALF_M], float("-inf"), gl.float32, gl.SliceLayout(1, s_layout))
            l_i = gl.zeros([HALF_M], gl.float32, gl.SliceLayout(1, s_layout))
            acc = gl.zeros([HALF_M, HEAD_DIM], gl.float32, o_layout)
            mbarrier.wait(q_ready.index(WG), tiles_done & 1)
            if n_blocks > 0:
                slot = pos % STAGES
                mbarrier.wait(k_ready.index(slot), (pos // STAGES) & 1)
                s_tok = warpgroup_mma(q, k_bufs.index(slot).permute((1, 0)), zero_s, use_acc=False, is_async=True)
                s = warpgroup_mma_wait(0, deps=(s_tok, ))
                mbarrier.arrive(k_empty.index(slot), count=1)
                p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, _block(0, n_blocks, DESC) * BLOCK_N, seq_kv,
                                                 causal_offset, qk_scale, dtype, p_layout, BLOCK_N, True, IS_CAUSAL,
                                                 DESC)
                for t in range(1, first_loop):
                    acc, p_op, m_i, l_i = _step(_block(t, n_blocks, DESC), pos + t, q, k_bufs, v_bufs, k_ready, v_ready,
                                                k_empty, v_empty, acc, p_op, m_i, l_i, zero_s, rows, seq_kv,
                                                causal_offset, qk_scale, dtype, p_layout, o_layout, BLOCK_N, STAGES,
                                                DESC, IS_CAUSAL, DESC)
                for t in range(gl.maximum(first_loop, 1), n_blocks):
                    acc, p_op, m_i, l_i = _step(_block(t, n_blocks, DESC), pos + t, q, k_bufs, v_bufs, k_ready, v_ready,
                                                k_empty, v_empty, acc, p_op, m_i, l_i, zero_s, rows, seq_kv,
                                                causal_offset, qk_scale, dtype, p_layout, o_layout, BLOCK_N, STAGES,
                                                not DESC, IS_CAUSAL, DESC)
                # Every Q K^T of the tile is done: the producer may load the next tile's query.
                mbarrier.arrive(q_empty.index(WG), count=1)
                last = (pos + n_blocks - 1) % STAGES
                mbarrier.wait(v_ready.index(last), ((pos + n_blocks - 1) // STAGES) & 1)
                acc_tok = warpgroup_mma(_operand(p_op, dtype, p_layout, DESC), v_bufs.index(last), acc,
                                        is_async=True)
                acc = warpgroup_mma_wait(0, deps=(acc_tok, ))
                mbarrier.arrive(v_empty.index(last), count=1)
            else:
                mbarrier.arrive(q_empty.index(WG), count=1)
            if not DESC:
                _release(count, n_blocks, n_tile, k_ready, v_ready, k_empty, v_empty, STAGES)
            count += n_tile
            tiles_done += 1

            seen = l_i > 0.0
            inv_l = gl.convert_layout(1.0 / gl.where(seen, l_i, 1.0), gl.SliceLayout(1, o_layout))
            out = acc * inv_l[:, None]
            # Stored in 16-byte pieces along rows, through shared memory (convert_layout). Inside a
            # warp-specialized partition Triton 3.6 no longer knows O's alignment (the
            # tt.divisibility of the kernel argument does not reach it): without the hints below
            # every element went out as its own 2-byte store. The specs require O 16-byte aligned
            # (divisibility 16) and rows are HEAD_DIM (or heads_q * HEAD_DIM) elements apart.
            TPW_C: gl.constexpr = HEAD_DIM // 8
            st_layout: gl.constexpr = gl.BlockedLayout([1, 8], [32 // TPW_C, TPW_C], [4, 1], [1, 0])
            out_st = gl.convert_layout(out.to(dtype), st_layout)
            o_rows = row0 + gl.arange(0, HALF_M, gl.SliceLayout(1, st_layout))
            o_cols = gl.arange(0, HEAD_DIM, gl.SliceLayout(0, st_layout))
            if BSHD:
                # [B, S, H, D]: rows are heads_q * HEAD_DIM apart.
                o_base = O + (bh_q // heads_q).to(gl.int64) * seq_q * heads_q * HEAD_DIM + (bh_q % heads_q) * HEAD_DIM
                o_ptrs = o_base + o_rows[:, None].to(gl.int64) * (heads_q * HEAD_DIM) + o_cols[None, :]
            else:
                o_ptrs = (O + bh_q.to(gl.int64) * seq_q * HEAD_DIM + o_rows[:, None].to(gl.int64) * HEAD_DIM +
                          o_cols[None, :])
            o_ptrs = gl.max_contiguous(gl.multiple_of(o_ptrs, [16, 16]), [1, 8])
            gl.store(o_ptrs, out_st, mask=o_rows[:, None] < seq_q)
            lse = gl.where(seen, (m_i + gl.log2(gl.where(seen, l_i, 1.0))) * LN2, float("-inf"))
            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, lse, mask=rows < seq_q)


@gluon.jit
def attention_fwd_sm90(Q, K, V, O, LSE, sm_scale, batch, heads_q, heads_kv, seq_q, seq_kv, causal,
                       HEAD_DIM: gl.constexpr, BLOCK_M: gl.constexpr, BLOCK_N: gl.constexpr, IS_CAUSAL: gl.constexpr,
                       BSHD: gl.constexpr, DESCENDING: gl.constexpr = False):
    """Q, K, V: host tensor descriptors (blocks [1, 1, BLOCK_M / 2, HEAD_DIM] and
    [1, 1, BLOCK_N, HEAD_DIM], or [1, rows, 1, HEAD_DIM] with BSHD); O, LSE: pointers. Grid
    (programs, 1, 1): any number of programs serves every unit (_units: cdiv(seq_q, BLOCK_M) *
    batch * heads_q tiles, causal in pairs). DESCENDING: causal tiles read their key blocks from the
    last down (the module's docstring); no effect without IS_CAUSAL."""
    dtype: gl.constexpr = Q.dtype
    DESC: gl.constexpr = IS_CAUSAL and DESCENDING
    HALF_M: gl.constexpr = BLOCK_M // 2
    # Key/value ring depth (K and V blocks a stage): D 128 with 128-key blocks, query 32 KiB +
    # 2 x 64 KiB of the 227 KiB of shared memory; else 3 stages (D 64: 16 KiB + 3 x 32 KiB with
    # 128-key blocks; 64-key blocks: at most 32 KiB + 3 x 32 KiB).
    STAGES: gl.constexpr = 3 if (HEAD_DIM == 64 or BLOCK_N == 64) else 2
    n_m = (seq_q + BLOCK_M - 1) // BLOCK_M
    n_units = _units(n_m, batch * heads_q, IS_CAUSAL)

    q_layout: gl.constexpr = gl.NVMMASharedLayout.get_default_for([HALF_M, HEAD_DIM], dtype)
    kv_layout: gl.constexpr = gl.NVMMASharedLayout.get_default_for([BLOCK_N, HEAD_DIM], dtype)
    q_bufs = gl.allocate_shared_memory(dtype, [2, HALF_M, HEAD_DIM], q_layout)
    k_bufs = gl.allocate_shared_memory(dtype, [STAGES, BLOCK_N, HEAD_DIM], kv_layout)
    v_bufs = gl.allocate_shared_memory(dtype, [STAGES, BLOCK_N, HEAD_DIM], kv_layout)
    q_ready = gl.allocate_shared_memory(gl.int64, [2, 1], mbarrier.MBarrierLayout())
    q_empty = gl.allocate_shared_memory(gl.int64, [2, 1], mbarrier.MBarrierLayout())
    k_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_ready = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    k_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    v_empty = gl.allocate_shared_memory(gl.int64, [STAGES, 1], mbarrier.MBarrierLayout())
    for w in gl.static_range(2):
        mbarrier.init(q_ready.index(w), count=1)
        mbarrier.init(q_empty.index(w), count=1)
    for i in gl.static_range(STAGES):
        mbarrier.init(k_ready.index(i), count=1)
        mbarrier.init(v_ready.index(i), count=1)
        # Both consumers read every slot: it is free once both have arrived.
        mbarrier.init(k_empty.index(i), count=2)
        mbarrier.init(v_empty.index(i), count=2)
    fence_async_shared()

    gl.warp_specialize([
        (_consumer, (q_bufs, k_bufs, v_bufs, q_ready, q_empty, k_ready, v_ready, k_empty, v_empty, O, LSE, sm_scale,
                     heads_q, seq_q, seq_kv, n_m, n_units, 0, BLOCK_M, BLOCK_N, HEAD_DIM, STAGES, IS_CAUSAL,
                     DESC, BSHD)),
        (_consumer, (q_bufs, k_bufs, v_bufs, q_ready, q_empty, k_ready, v_ready, k_empty, v_empty, O, LSE, sm_scale,
                     heads_q, seq_q, seq_kv, n_m, n_units, 1, BLOCK_M, BLOCK_N, HEAD_DIM, STAGES, IS_CAUSAL,
                     DESC, BSHD)),
        (_producer, (Q, K, V, q_bufs, k_bufs, v_bufs, q_ready, q_empty, k_ready, v_ready, k_empty,
                     v_empty, heads_q, heads_kv, seq_q, seq_kv, n_m, n_units, BLOCK_M, BLOCK_N, STAGES, IS_CAUSAL,
                     DESC, BSHD)),
    ], [4, 1], [240, 24])
