"""Writes the cubin reader's seed corpus (tests/fuzz/corpus/cubin), also the unit tests' data.

    python3 tests/fuzz/make_cubin_corpus.py        # Triton 3.6 (no GPU needed); nvcc optional

- add_sm90.cubin: a Triton vector add for sm_90a (ptxas: 30 registers, 0 bytes stack frame).
- mm_spill_sm80.cubin: a Triton matmul squeezed into 32 registers for sm_80, so it spills
  (ptxas: 32 registers, 136 bytes stack frame, 152 bytes spill stores, 132 bytes spill loads).
- nvcc_three_kernels.cubin: nvcc -cubin -arch=sm_90 of the CUDA source below: three kernels in
  one file, non-inlined device functions with their own frame records, recursion
  (ptxas: k1 24 registers 0 bytes, k2 32 registers 272 bytes, k3 10 registers 0 bytes).
The numbers are checked with cuobjdump -res-usage and pinned by tests/unit/cubin_info_test.cpp;
rerunning with another Triton or CUDA version may change them (then update the test).
"""

import os
import subprocess
import tempfile

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "cubin")


@triton.jit
def add_kernel(x, y, o, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    m = offs < n
    tl.store(o + offs, tl.load(x + offs, mask=m) + tl.load(y + offs, mask=m), mask=m)


@triton.jit
def mm(a, b, c, M, N, K, BM: tl.constexpr, BN: tl.constexpr, BK: tl.constexpr):
    rm = tl.program_id(0) * BM + tl.arange(0, BM)
    rn = tl.program_id(1) * BN + tl.arange(0, BN)
    rk = tl.arange(0, BK)
    acc = tl.zeros((BM, BN), dtype=tl.float32)
    for k in range(0, K, BK):
        x = tl.load(a + rm[:, None] * K + (k + rk)[None, :])
        y = tl.load(b + (k + rk)[:, None] * N + rn[None, :])
        acc += tl.dot(x, y)
    tl.store(c + rm[:, None] * N + rn[None, :], acc)


CUDA_SOURCE = r"""
#include <cstdio>
__device__ __noinline__ int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
__device__ __noinline__ float helper(float* p, int i) {
  float a[64];
  for (int j = 0; j < 64; ++j) a[j] = p[i + j];
  return a[i & 63];
}
extern "C" __global__ void k1(int* o, int n) { o[threadIdx.x] = fib(n); }
extern "C" __global__ void k2(float* o, float* p, int n) { o[threadIdx.x] = helper(p, n); printf("%d\n", n); }
extern "C" __global__ void k3(float* o) { o[threadIdx.x] = 1; }
"""


def write(name: str, data: bytes) -> None:
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(data)
    print(f"{name}: {len(data)} bytes")


def main() -> None:
    os.makedirs(OUT, exist_ok=True)
    add = triton.compile(
        triton.compiler.ASTSource(fn=add_kernel, signature={"x": "*fp32", "y": "*fp32", "o": "*fp32", "n": "i32",
                                                            "BLOCK": "constexpr"}, constexprs={"BLOCK": 1024}),
        target=GPUTarget("cuda", 90, 32))
    write("add_sm90.cubin", add.asm["cubin"])
    spill = triton.compile(
        triton.compiler.ASTSource(fn=mm, signature={"a": "*fp16", "b": "*fp16", "c": "*fp32", "M": "i32", "N": "i32",
                                                    "K": "i32", "BM": "constexpr", "BN": "constexpr",
                                                    "BK": "constexpr"},
                                  constexprs={"BM": 32, "BN": 32, "BK": 32}),
        target=GPUTarget("cuda", 80, 32), options={"num_warps": 4, "num_stages": 2, "maxnreg": 32})
    write("mm_spill_sm80.cubin", spill.asm["cubin"])
    with tempfile.TemporaryDirectory() as tmp:
        source = os.path.join(tmp, "three_kernels.cu")
        with open(source, "w") as f:
            f.write(CUDA_SOURCE)
        cubin = os.path.join(tmp, "three_kernels.cubin")
        try:
            subprocess.run(["nvcc", "-cubin", "-arch=sm_90", "-o", cubin, source], check=True)
        except FileNotFoundError:
            print("nvcc not found: nvcc_three_kernels.cubin left as it is")
            return
        with open(cubin, "rb") as f:
            write("nvcc_three_kernels.cubin", f.read())


if __name__ == "__main__":
    main()
