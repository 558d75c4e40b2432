"""Element-wise vector add, the kernel of Triton's tutorial 01 (seed 03): output = x + y.

One program adds BLOCK_SIZE consecutive elements; the last block is masked, so
n_elements need not be a multiple of BLOCK_SIZE. Grid: ceil(n_elements / BLOCK_SIZE).
Spec: vector_add.toml.
"""

import triton
import triton.language as tl


@triton.jit
def add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(output_ptr + offsets, x + y, mask=mask)
