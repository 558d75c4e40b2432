"""Test kernel: row softmax whose block width comes from a heuristic, as Triton users write it.

Host-side semantics (for a double-precision reference), for each row 0 <= r < n_rows:
    x[j] = input[r * input_row_stride + j] for 0 <= j < n_cols (dtype T; computed in fp32)
    output[r * output_row_stride + j] = T(exp(x[j] - max(x)) / sum_j exp(x[j] - max(x)))
    Elements past column n_cols - 1 are neither read nor written.

A row is reduced in one block of BLOCK_SIZE columns, so the kernel needs n_cols <= BLOCK_SIZE
(the spec states it as a constraint); the heuristic picks BLOCK_SIZE = next_power_of_2(n_cols),
the smallest block that holds the row. n_cols >= 1. Row offsets are i64.

Grid: (n_rows, 1, 1). Spec: softmax_h.toml.
"""

import triton
import triton.language as tl


@triton.heuristics({"BLOCK_SIZE": lambda args: triton.next_power_of_2(args["n_cols"])})
@triton.jit
def softmax_h_kernel(output_ptr, input_ptr, input_row_stride, output_row_stride, n_cols, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    cols = tl.arange(0, BLOCK_SIZE)
    mask = cols < n_cols
    x = tl.load(input_ptr + row * input_row_stride + cols, mask=mask, other=-float("inf")).to(tl.float32)
    x = x - tl.max(x, axis=0)
    num = tl.exp(x)
    y = num / tl.sum(num, axis=0)
    tl.store(output_ptr + row * output_row_stride + cols, y.to(output_ptr.dtype.element_ty), mask=mask)
