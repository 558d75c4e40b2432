"""Host overhead of one tritonpack op call in eager PyTorch against scaled_dot_product_attention on
tiny shapes (issue 9: within 1.5x), same run, same process. The GPU is kept busy first
(torch.cuda._sleep) so the loop measures the host side only: the time to issue N calls divided by
N. Prints a table; writes CSV when given a path.

Usage: torch_op_overhead.py FMHA_PACK [CSV_PATH]   (TRITONPACK_TORCH_LIBRARY, PYTHONPATH as for the tests)
"""

import statistics
import sys
import time

import torch

import tritonpack

if not torch.cuda.is_available():
    print("SKIPPED: no CUDA device")
    sys.exit(77)
tritonpack.load(sys.argv[1])
fmha = torch.ops.tritonpack.tritonpack_fmha
sdpa = torch.nn.functional.scaled_dot_product_attention
CALLS, REPEATS = 200, 15


def host_us_per_call(fn):
    for _ in range(20):
        fn()  # warm: launch caches, module loading
    torch.cuda.synchronize()
    samples = []
    for _ in range(REPEATS):
        torch.cuda._sleep(200_000_000)  # the GPU stays busy while the host issues the calls
        t0 = time.perf_counter()
        for _ in range(CALLS):
            fn()
        samples.append((time.perf_counter() - t0) / CALLS * 1e6)
        torch.cuda.synchronize()
    return statistics.median(samples), min(samples)


rows = []
for b, h, s, d in ((1, 1, 16, 64), (1, 2, 64, 64), (2, 4, 128, 128)):
    q, k, v = (torch.randn(b, h, s, d, dtype=torch.float16, device="cuda") for _ in range(3))
    scale = d ** -0.5
    op_med, op_min = host_us_per_call(lambda: fmha(q, k, v, scale))
    ref_med, ref_min = host_us_per_call(lambda: sdpa(q, k, v, is_causal=True, scale=scale))
    rows.append((f"{b}x{h}x{s}x{d}", op_med, op_min, ref_med, ref_min, op_med / ref_med))

print(f"GPU: {torch.cuda.get_device_name()}, torch {torch.__version__}; host microseconds per call "
      f"(median and min of {REPEATS} loops of {CALLS} calls, GPU kept busy)")
print(f"{'shape BxHxSxD':16} {'tritonpack op':>14} {'(min)':>8} {'SDPA eager':>12} {'(min)':>8} {'op / SDPA':>10}")
for shape, om, on, rm, rn, ratio in rows:
    print(f"{shape:16} {om:14.2f} {on:8.2f} {rm:12.2f} {rn:8.2f} {ratio:10.3f}")
if len(sys.argv) > 2:
    with open(sys.argv[2], "w") as f:
        f.write("shape,op_us_median,op_us_min,sdpa_us_median,sdpa_us_min,ratio\n")
        for r in rows:
            f.write(",".join([r[0]] + [f"{x:.3f}" for x in r[1:]]) + "\n")
