"""Test kernel: out = 3 * x, done in two steps through a scratch tensor.

Host-side semantics (for a double-precision reference):
    x, tmp, out: vectors of n elements of dtype T (fp32 or fp16).
    step 1 (PHASE = 0), grid (cdiv(n, 1024),): tmp[i] = x[i] * 2   for 0 <= i < n
    step 2 (PHASE = 1), grid (cdiv(n, 256),):  out[i] = tmp[i] + x[i] for 0 <= i < n
    so out == T(T(2 * x) + x): 3 * x rounded as the two T operations round it (exact for
    fp32 and fp16 inputs of few significant bits; within one rounding otherwise). No element
    outside [0, n) is read or written.

Why it exists: a kernel in steps (spec key [kernel] steps) is one operation that the runtime
launches as one launch per step, in order, on one stream. Each step alone gives a wrong result:
without step 1 out reads whatever tmp held (poison), without step 2 out is never written, and
in the wrong order step 2 reads tmp before step 1 wrote it. The two steps also have different
grids (BLOCK is 1024 in step 1, 256 in step 2), so each step's grid is exercised.

Spec: two_step.toml.
"""

import triton
import triton.language as tl


@triton.jit
def two_step_kernel(x_ptr, tmp_ptr, out_ptr, n, PHASE: tl.constexpr):
    if PHASE == 0:
        BLOCK: tl.constexpr = 1024
        offs = tl.program_id(axis=0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(x_ptr + offs, mask=mask)
        tl.store(tmp_ptr + offs, x * 2, mask=mask)
    else:
        BLOCK: tl.constexpr = 256
        offs = tl.program_id(axis=0) * BLOCK + tl.arange(0, BLOCK)
        mask = offs < n
        x = tl.load(x_ptr + offs, mask=mask)
        t = tl.load(tmp_ptr + offs, mask=mask)
        tl.store(out_ptr + offs, t + x, mask=mask)
