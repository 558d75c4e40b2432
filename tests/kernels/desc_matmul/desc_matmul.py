"""Test kernel: C = A @ B, reading A and B through host tensor descriptors as the TMA kernels of
Triton's Hopper tutorials (09 persistent matmul) do, one output tile per program.

Host-side semantics (for a double-precision reference):
    A: M x K and B: K x N, row-major, dtype T (fp16 or bf16), each given as a host tensor
    descriptor (base, shape, strides in elements; the last stride 1).
    C: M x N, row-major and contiguous (row stride N), dtype T, a plain pointer.
    C[i, j] = T(sum_k A[i, k] * B[k, j]), accumulated in fp32 (products of fp16/bf16 are exact
    in fp32; only the sum rounds). Nothing outside C's M x N elements is written.

Any M, N, K >= 1 work: descriptor loads past a tensor's edge read zeros (on sm_90 TMA clips in
hardware; on sm_80 Triton lowers the descriptors to masked loads), and the store of C is
masked. (C is a pointer, not a descriptor, because a spec needs at least one tensor param.) M, N and K are also passed as scalars for the loop and
the grid; the spec names the descriptors' dims after them, so the runtime checks that the
shapes agree. TMA (sm_90) itself needs 16-byte aligned bases and row strides that are multiples
of 16 bytes (K and N multiples of 8 for 2-byte T); the runtime checks those per variant, and
on an sm_90 device an sm_80 variant (no TMA) can serve other strides.

Grid: (cdiv(M, BLOCK_M), cdiv(N, BLOCK_N), 1). Spec: desc_matmul.toml.
"""

import triton
import triton.language as tl


@triton.jit
def desc_matmul_kernel(a_desc, b_desc, c_ptr, M, N, K,
                       BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, BLOCK_K: tl.constexpr):
    row = tl.program_id(0) * BLOCK_M
    col = tl.program_id(1) * BLOCK_N
    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, K, BLOCK_K):
        a = a_desc.load([row, k])
        b = b_desc.load([k, col])
        acc = tl.dot(a, b, acc)
    rows = row + tl.arange(0, BLOCK_M)
    cols = col + tl.arange(0, BLOCK_N)
    mask = (rows[:, None] < M) & (cols[None, :] < N)
    # i64 row offsets: M * N may exceed 2^31.
    c_ptrs = c_ptr + rows[:, None].to(tl.int64) * N + cols[None, :]
    tl.store(c_ptrs, acc.to(c_ptr.dtype.element_ty), mask=mask)
