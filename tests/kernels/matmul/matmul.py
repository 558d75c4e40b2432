"""Test kernel: C = activation(A @ B), Triton tutorial 03 style (autotuned, grouped tile order).

Host-side semantics (for a double-precision reference):
    A: M x K, B: K x N, C: M x N, all of dtype T (fp16 or bf16), element (i, j) of X at
    X[i * stride_x0 + j * stride_x1] (strides in elements, i32; any layout, transposed included).
    acc[i, j] = sum_k A[i, k] * B[k, j], accumulated in fp32 (the products of fp16/bf16 values
    are exact in fp32; only the sum rounds)
    C[i, j] = T(act(acc[i, j])), act = identity for ACTIVATION == "", and
    leaky_relu(x) = x if x >= 0 else 0.01 * x for ACTIVATION == "leaky_relu"
    No element outside the M x N block of C is written; no element outside A's M x K or B's
    K x N block is read.

Any M, N, K >= 0 work: rows, columns and the last K block are masked (K = 0 gives C = act(0)).
Offsets are i32, as in the tutorial: the farthest element of each matrix must lie within
2^31 - 1 elements of its base (the spec's constraints say so per matrix). Pointers 16-byte
aligned (the spec's divisibility = 16).

Grid: (cdiv(M, BLOCK_SIZE_M) * cdiv(N, BLOCK_SIZE_N), 1, 1); program ids walk the tiles of C in
groups of GROUP_SIZE_M block rows, column by column inside a group, so that programs running
together share rows of A and columns of B in L2. Spec: matmul.toml.
"""

import triton
import triton.language as tl


def _configs():
    # Three tile shapes: a large one for big problems, a middle one, a small one for thin ones.
    shapes = [(128, 128, 64, 3, 8), (64, 128, 32, 4, 4), (32, 64, 32, 4, 2)]
    return [
        triton.Config({"BLOCK_SIZE_M": m, "BLOCK_SIZE_N": n, "BLOCK_SIZE_K": k, "GROUP_SIZE_M": 8},
                      num_stages=stages, num_warps=warps)
        for m, n, k, stages, warps in shapes
    ]


@triton.jit
def _leaky_relu(x):
    return tl.where(x >= 0, x, 0.01 * x)


@triton.autotune(configs=_configs(), key=["M", "N", "K"])
@triton.jit
def matmul_kernel(a_ptr, b_ptr, c_ptr, M, N, K,
                  stride_am, stride_ak, stride_bk, stride_bn, stride_cm, stride_cn,
                  BLOCK_SIZE_M: tl.constexpr, BLOCK_SIZE_N: tl.constexpr, BLOCK_SIZE_K: tl.constexpr,
                  GROUP_SIZE_M: tl.constexpr, ACTIVATION: tl.constexpr):
    # Which tile of C: consecutive program ids go down a group of GROUP_SIZE_M block rows first.
    pid = tl.program_id(axis=0)
    tiles_m = tl.cdiv(M, BLOCK_SIZE_M)
    tiles_n = tl.cdiv(N, BLOCK_SIZE_N)
    tiles_per_group = GROUP_SIZE_M * tiles_n
    group = pid // tiles_per_group
    group_row = group * GROUP_SIZE_M
    rows_in_group = min(tiles_m - group_row, GROUP_SIZE_M)  # the last group may be short
    tile_m = group_row + (pid % tiles_per_group) % rows_in_group
    tile_n = (pid % tiles_per_group) // rows_in_group

    rows = tile_m * BLOCK_SIZE_M + tl.arange(0, BLOCK_SIZE_M)
    cols = tile_n * BLOCK_SIZE_N + tl.arange(0, BLOCK_SIZE_N)
    ks = tl.arange(0, BLOCK_SIZE_K)
    row_ok = rows < M
    col_ok = cols < N
    a_ptrs = a_ptr + rows[:, None] * stride_am + ks[None, :] * stride_ak
    b_ptrs = b_ptr + ks[:, None] * stride_bk + cols[None, :] * stride_bn

    acc = tl.zeros((BLOCK_SIZE_M, BLOCK_SIZE_N), dtype=tl.float32)
    for k0 in range(0, K, BLOCK_SIZE_K):
        k_ok = ks < K - k0
        a = tl.load(a_ptrs, mask=row_ok[:, None] & k_ok[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=k_ok[:, None] & col_ok[None, :], other=0.0)
        acc = tl.dot(a, b, acc)
        a_ptrs += BLOCK_SIZE_K * stride_ak
        b_ptrs += BLOCK_SIZE_K * stride_bk

    if ACTIVATION == "leaky_relu":
        acc = _leaky_relu(acc)
    c = acc.to(c_ptr.dtype.element_ty)
    c_ptrs = c_ptr + rows[:, None] * stride_cm + cols[None, :] * stride_cn
    tl.store(c_ptrs, c, mask=row_ok[:, None] & col_ok[None, :])
