"""Test kernel: layer normalization forward, Triton tutorial 05 style (one program per row).

Host-side semantics (for a double-precision reference), for each row 0 <= r < M (M is the
grid, not an argument):
    x = X[r * stride + j] for 0 <= j < N (dtype T: fp32, fp16 or bf16; computed in fp32)
    mean = sum(x) / N
    var = sum((x - mean)^2) / N          (the biased variance, as torch.layer_norm)
    rstd = 1 / sqrt(var + eps)
    Y[r * stride + j] = T((x[j] - mean) * rstd * W[j] + B[j])
    Mean[r] = mean, Rstd[r] = rstd        (fp32)
    W, B: N values of dtype T. Y has X's row stride. Elements of Y past column N - 1 are
    not written.

Any N >= 1 works with any BLOCK_SIZE: the row is read in BLOCK_SIZE chunks (three passes: sum,
squared deviations, normalize), the last chunk masked. BLOCK_SIZE only sets the chunk width,
so min(4096, next_power_of_2(N)) (the spec's heuristic) reads a row of up to 4096 columns in
one chunk. Offsets of one row are i32 (N < 2^31); the row's start is i64.

Grid: (M, 1, 1). Spec: layernorm.toml.
"""

import triton
import triton.language as tl


@triton.jit
def layernorm_fwd_kernel(X, Y, W, B, Mean, Rstd, stride, N, eps, BLOCK_SIZE: tl.constexpr):
    row = tl.program_id(0)
    x_row = X + row.to(tl.int64) * stride
    y_row = Y + row.to(tl.int64) * stride

    # Mean, then the variance around it (two passes: no cancellation of E[x^2] - E[x]^2).
    partial = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for start in range(0, N, BLOCK_SIZE):
        cols = start + tl.arange(0, BLOCK_SIZE)
        partial += tl.load(x_row + cols, mask=cols < N, other=0.0).to(tl.float32)
    mean = tl.sum(partial, axis=0) / N

    partial = tl.zeros([BLOCK_SIZE], dtype=tl.float32)
    for start in range(0, N, BLOCK_SIZE):
        cols = start + tl.arange(0, BLOCK_SIZE)
        x = tl.load(x_row + cols, mask=cols < N, other=0.0).to(tl.float32)
        centered = tl.where(cols < N, x - mean, 0.0)
        partial += centered * centered
    var = tl.sum(partial, axis=0) / N
    rstd = 1 / tl.sqrt(var + eps)
    tl.store(Mean + row, mean)
    tl.store(Rstd + row, rstd)

    for start in range(0, N, BLOCK_SIZE):
        cols = start + tl.arange(0, BLOCK_SIZE)
        mask = cols < N
        w = tl.load(W + cols, mask=mask).to(tl.float32)
        b = tl.load(B + cols, mask=mask).to(tl.float32)
        x = tl.load(x_row + cols, mask=mask, other=0.0).to(tl.float32)
        y = (x - mean) * rstd * w + b
        tl.store(y_row + cols, y.to(Y.dtype.element_ty), mask=mask)
