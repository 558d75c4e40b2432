"""Row-wise softmax: output[r, :n_cols] = softmax(scale * input[r, :n_cols]).

Loads and stores the tensors' dtype, computes in fp32. One row per program
iteration; programs stride over the rows, so the grid may be smaller than n_rows.
BLOCK_SIZE must be >= n_cols (a row is reduced in one block): the caller picks the
specialization with n_cols <= BLOCK_SIZE. `scale` is an fp32 scalar on purpose: it
exercises the float argument ABI. Spec: softmax.toml.
"""

import triton
import triton.language as tl


@triton.jit
def softmax_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_rows, n_cols, scale,
                   BLOCK_SIZE: tl.constexpr):
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    for row in tl.range(tl.program_id(0), n_rows, tl.num_programs(0)):
        # int64 row offsets: n_rows * stride can exceed 2^31 elements.
        row64 = row.to(tl.int64)
        x = tl.load(input_ptr + row64 * input_row_stride + cols, mask=mask, other=0.0)
        # Mask after scaling: -inf * a negative scale would be +inf.
        x = tl.where(mask, x.to(tl.float32) * scale, -float("inf"))
        x = x - tl.max(x, axis=0)
        num = tl.exp(x)
        y = num / tl.sum(num, axis=0)
        tl.store(output_ptr + row64 * output_row_stride + cols, y.to(output_ptr.dtype.element_ty), mask=mask)
