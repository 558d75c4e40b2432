"""out[m, n] = scale * x[m, n], reading x through a host tensor descriptor (TMA on Hopper).

A kernel for the launch path of descriptors with rules and a heuristic: the block width BN follows
the row length (heuristic in desc_scale.toml), and the tile is stored through a plain pointer with
masks, so any M and N work. Spec: desc_scale.toml.
"""

import triton
import triton.language as tl


@triton.jit
def desc_scale_kernel(x_desc, out_ptr, M, N, scale, BM: tl.constexpr, BN: tl.constexpr):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    x = x_desc.load([pid_m * BM, pid_n * BN])  # rows and columns past the tensor read as zero
    offs_m = pid_m * BM + tl.arange(0, BM)
    offs_n = pid_n * BN + tl.arange(0, BN)
    mask = (offs_m[:, None] < M) & (offs_n[None, :] < N)
    y = (x.to(tl.float32) * scale).to(out_ptr.dtype.element_ty)
    tl.store(out_ptr + offs_m[:, None].to(tl.int64) * N + offs_n[None, :], y, mask=mask)
