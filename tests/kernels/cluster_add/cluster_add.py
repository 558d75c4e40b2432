"""Test kernel: element-wise add compiled with num_ctas = 2 (a thread-block cluster of 2 CTAs).

Host-side semantics (for a double-precision reference):
    x, y, output: vectors of n_elements values of dtype T (fp32 or fp16).
    for 0 <= i < n_elements:  output[i] = T(x[i] + y[i])
    i.e. the sum rounded once to T (round to nearest even): compute double(x[i]) +
    double(y[i]) and round it to T; that is exact for fp32 and fp16 inputs, since the
    double sum of two fp32 (or fp16) values is exact and a single rounding follows.
    No element at index >= n_elements is read or written.

Any n_elements >= 0 works: the last block is masked. Pointers 16-byte aligned (the
spec's divisibility = 16).

Why this kernel exists: the spec compiles it with num_ctas = 2 for sm_90, so the
metadata has num_ctas = 2 and the runtime must launch it as Triton's launcher does:
gridDim.x = grid_x * num_ctas with the cluster-dimension launch attribute (2, 1, 1)
(cuLaunchKernelEx). With num_ctas = 2 Triton splits each BLOCK_SIZE block across the
two CTAs of a cluster, and tl.program_id(0) is the cluster's index (%clusterid.x), so
the grid counts programs (clusters), not CTAs: grid = (ceil(n_elements / BLOCK_SIZE), 1, 1).
Spec: cluster_add.toml.
"""

import triton
import triton.language as tl


@triton.jit
def cluster_add_kernel(x_ptr, y_ptr, output_ptr, n_elements, BLOCK_SIZE: tl.constexpr):
    pid = tl.program_id(axis=0)
    offsets = pid * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    mask = offsets < n_elements
    x = tl.load(x_ptr + offsets, mask=mask)
    y = tl.load(y_ptr + offsets, mask=mask)
    tl.store(output_ptr + offsets, x + y, mask=mask)
