"""Test kernel: out = 2 * x over an M x N matrix through device-side TMA descriptors.

Host-side semantics (for a double-precision reference):
    x, out: row-major M x N matrices of dtype T (fp32 or fp16), N contiguous, row stride N.
    for 0 <= i < M, 0 <= j < N:  out[i * N + j] = 2 * x[i * N + j]
    Doubling is exact in binary floating point, so the reference is bit-exact:
    out == T(2.0 * double(x)) for every element (for fp16, |x| >= 32768 gives +-inf,
    as the T multiplication does; NaN stays NaN). No element outside the M x N
    matrix is read or written.

Preconditions (TMA, enforced by nobody on the device, so the caller must keep them):
    x and out are 16-byte aligned (the spec's divisibility = 16);
    the row stride N * sizeof(T) is a multiple of 16 bytes: N % 4 == 0 for fp32,
    N % 8 == 0 for fp16; M >= 1 and N >= 1.
M and N need not be multiples of the block: the descriptor clips the ragged edge
(loads beyond it read zero, stores beyond it are dropped).

Why this kernel exists: tl.make_tensor_descriptor inside a kernel makes Triton 3.6
create the TMA descriptors on the device, in the global scratch buffer (128 bytes
each, 128-byte aligned), so the compiled metadata has global_scratch_size > 0 on
sm_90; the runtime must pass a scratch buffer of grid_x * grid_y * grid_z *
num_ctas * global_scratch_size bytes as the hidden global_scratch argument.

Grid: (ceil(M / BLOCK_M), ceil(N / BLOCK_N), 1). Spec: scratch_copy.toml.
"""

import triton
import triton.language as tl


@triton.jit
def scale2_kernel(x_ptr, out_ptr, M, N, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr):
    pid_m = tl.program_id(axis=0)
    pid_n = tl.program_id(axis=1)
    x_desc = tl.make_tensor_descriptor(x_ptr, shape=[M, N], strides=[N, 1], block_shape=[BLOCK_M, BLOCK_N])
    out_desc = tl.make_tensor_descriptor(out_ptr, shape=[M, N], strides=[N, 1], block_shape=[BLOCK_M, BLOCK_N])
    offs = [pid_m * BLOCK_M, pid_n * BLOCK_N]
    x = x_desc.load(offs)
    out_desc.store(offs, x * 2)
