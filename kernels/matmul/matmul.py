"""Matrix product C = A @ B for fp16 and bf16, accumulated in fp32 (spec: matmul.toml).

Host-side semantics (for a reference):
    A: M x K, B: K x N, C: M x N, all of one dtype T (fp16 or bf16), row-major and contiguous:
    element (i, j) of A is A[i * K + j], of B is B[i * N + j], of C is C[i * N + j]. There are no
    stride arguments: the row stride is the column count and the inner stride is 1, which is what
    Triton's JIT would specialize for a contiguous torch tensor anyway.
    acc[i, j] = sum_k A[i, k] * B[k, j] in fp32 (products of fp16/bf16 values are exact in fp32;
    only the sum rounds), then C[i, j] = T(acc[i, j]).
    No element outside C's M x N is written; none outside A's M x K or B's K x N is read.

Any M, N, K >= 0 work: rows, columns and the last K block are masked (K = 0 writes C = 0). The
masks along K (A's contiguous dim) and N (B's and C's) vectorize only when Triton knows K and N
are multiples of 16, so the spec compiles each config for both K % 16 == 0 and any K, and the same
for N (as Triton's JIT specializes an integer argument divisible by 16).

Offsets are i32, as Triton's JIT would compute them for i32 sizes: the last element of each matrix
must lie within 2^31 - 1 elements of its base (M * K, K * N, M * N <= 2^31; the spec's constraints
refuse larger launches). Lanes outside the matrix (the masked rows and columns of an edge tile) may
compute wrapped offsets; they are never dereferenced. Pointers 16-byte aligned.

Grid: (cdiv(M, BLOCK_M) * cdiv(N, BLOCK_N), 1, 1). Program ids walk C's tiles in groups of
GROUP_SIZE_M block rows, down a group's column before moving right, so the programs resident at
one time share a few block rows of A and block columns of B in L2.

The @triton.autotune configs below are the 8 fp16 CUDA configs of Triton's matmul tutorial, and
matmul.toml lists the same ones as [[configs]] in the same order (tests/python/
kernels_interpreter_check.py checks that they agree), so Triton's own autotuner and tritonpack's
ahead-of-time tuning choose from the same set (bench/matmul_tuning.py compares them).
"""

import triton
import triton.language as tl

# (BLOCK_M, BLOCK_N, BLOCK_K, num_stages, num_warps), in the order matmul.toml lists them.
TILE_CONFIGS = [
    (128, 256, 64, 3, 8),
    (64, 256, 32, 4, 4),
    (128, 128, 32, 4, 4),
    (128, 64, 32, 4, 4),
    (64, 128, 32, 4, 4),
    (128, 32, 32, 4, 4),
    (64, 32, 32, 5, 2),
    (32, 64, 32, 5, 2),
]
GROUP_SIZE_M = 8


def _autotune_configs():
    return [
        triton.Config({"BLOCK_M": m, "BLOCK_N": n, "BLOCK_K": k, "GROUP_SIZE_M": GROUP_SIZE_M},
                      num_stages=stages, num_warps=warps)
        for m, n, k, stages, warps in TILE_CONFIGS
    ]


@triton.autotune(configs=_autotune_configs(), key=["M", "N", "K"])
@triton.jit
def matmul_kernel(A, B, C, M, N, K,
                  BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr,
                  GROUP_SIZE_M: tl.constexpr):
    # This program's tile of C. Ids run down the GROUP_SIZE_M block rows of a group, then on to
    # the next block column; the last group may have fewer block rows.
    pid = tl.program_id(axis=0)
    blocks_m = tl.cdiv(M, BLOCK_M)
    blocks_n = tl.cdiv(N, BLOCK_N)
    programs_per_group = GROUP_SIZE_M * blocks_n
    group_first_row = (pid // programs_per_group) * GROUP_SIZE_M
    group_rows = min(blocks_m - group_first_row, GROUP_SIZE_M)
    in_group = pid % programs_per_group
    block_m = group_first_row + in_group % group_rows
    block_n = in_group // group_rows

    rows = block_m * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = block_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ks = tl.arange(0, BLOCK_K)
    row_in = rows < M
    col_in = cols < N
    a_tile = A + rows[:, None] * K + ks[None, :]
    b_tile = B + ks[:, None] * N + cols[None, :]

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k_start in range(0, K, BLOCK_K):
        k_in = ks < K - k_start  # only the last step can be partial
        a = tl.load(a_tile, mask=row_in[:, None] & k_in[None, :], other=0.0)
        b = tl.load(b_tile, mask=k_in[:, None] & col_in[None, :], other=0.0)
        acc = tl.dot(a, b, acc)
        a_tile += BLOCK_K
        b_tile += BLOCK_K * N

    c_tile = C + rows[:, None] * N + cols[None, :]
    tl.store(c_tile, acc.to(C.dtype.element_ty), mask=row_in[:, None] & col_in[None, :])
