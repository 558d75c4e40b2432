"""Test kernel: element-wise output = x + y written in Gluon (@gluon.jit), with an explicit layout.

Host-side semantics (for a double-precision reference):
    x, y, output: vectors of n_elements values of dtype T (fp32, fp16 or bf16).
    for 0 <= i < n_elements:  output[i] = T(x[i] + y[i])  (one rounding of the exact sum)
    No element at index >= n_elements is read or written.

Gluon leaves the distribution of a tensor over threads to the author: the layout gives each
thread 4 consecutive elements, 32 threads per warp, and the kernel's warps side by side, so one
pass of the layout covers 4 * 32 * num_warps elements and a BLOCK_SIZE of 1024 with 4 warps takes
two (each thread holds 2 x 4 elements, loaded as 16-byte vectors for fp32).

Any n_elements >= 0 works: the last block is masked. Grid: (cdiv(n_elements, BLOCK_SIZE), 1, 1).
Spec: gluon_add.toml.
"""

from triton.experimental import gluon
from triton.experimental.gluon import language as gl


@gluon.jit
def gluon_add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: gl.constexpr):
    layout: gl.constexpr = gl.BlockedLayout(size_per_thread=[4], threads_per_warp=[32], warps_per_cta=[gl.num_warps()],
                                            order=[0])
    offsets = gl.program_id(0) * BLOCK_SIZE + gl.arange(0, BLOCK_SIZE, layout=layout)
    mask = offsets < n_elements
    x = gl.load(x_ptr + offsets, mask=mask)
    y = gl.load(y_ptr + offsets, mask=mask)
    gl.store(output_ptr + offsets, x + y, mask=mask)
