"""Host cost per launch of Triton's own JIT launcher (from Python), for the same vector-add kernel
and size that bench_launch_overhead times through tritonpack and raw cuLaunchKernel."""
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "kernels" / "vector_add"))
from vector_add import add_kernel  # noqa: E402


def main(launches=20000):
    n = 1024
    x, y, out = (torch.randn(n, device="cuda") for _ in range(3))
    grid = (1,)
    for _ in range(1000):
        add_kernel[grid](x, y, out, n, BLOCK_SIZE=1024, num_warps=4)
    torch.cuda.synchronize()
    assert torch.equal(out, x + y)
    per_launch = []
    for _ in range(launches // 100):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        for _ in range(100):
            add_kernel[grid](x, y, out, n, BLOCK_SIZE=1024, num_warps=4)
        per_launch.append((time.perf_counter() - t0) / 100 * 1e6)
    torch.cuda.synchronize()
    us = statistics.median(per_launch)
    print(f"{'triton JIT launch (Python)':28s} {us:10.3f}")
    print(f"CSV,launch_overhead,triton_jit,{us:.4f}")


if __name__ == "__main__":
    main()
