"""A persistent element-wise add: output = x + y, one program per SM.

Each program walks the tiles pid, pid + num_programs, ... so that a grid of
min(SM_COUNT, number of tiles) programs covers every tile whatever the device's
SM count. Spec: persistent_add.toml (its grid names the built-in SM_COUNT).
"""

import triton
import triton.language as tl


@triton.jit
def persistent_add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    n_tiles = tl.cdiv(n_elements, BLOCK_SIZE)
    for tile in range(tl.program_id(axis=0), n_tiles, tl.num_programs(axis=0)):
        offsets = tile * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
        mask = offsets < n_elements
        x = tl.load(x_ptr + offsets, mask=mask)
        y = tl.load(y_ptr + offsets, mask=mask)
        tl.store(output_ptr + offsets, x + y, mask=mask)
