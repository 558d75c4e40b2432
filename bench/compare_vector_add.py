"""Vector add GB/s: tritonpack (bench_vector_add_bandwidth, event-timed median) against torch.add
timed the same way, in one run. Usage: compare_vector_add.py BENCH_BINARY PACK [OUT_PREFIX]
Writes OUT_PREFIX.csv and OUT_PREFIX.json when given."""
import csv
import json
import subprocess
import sys

import torch


def torch_add_gbps(dtype, n, runs=50):
    x = torch.randn(n, device="cuda", dtype=dtype)
    y = torch.randn(n, device="cuda", dtype=dtype)
    out = torch.empty_like(x)
    for _ in range(5):
        torch.add(x, y, out=out)
    times = []
    for _ in range(runs):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        torch.add(x, y, out=out)
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    ms = sorted(times)[len(times) // 2]
    return ms * 1e3, 3 * n * x.element_size() / (ms * 1e-3) / 1e9


def main():
    binary, pack = sys.argv[1], sys.argv[2]
    prefix = sys.argv[3] if len(sys.argv) > 3 else None
    proc = subprocess.run([binary, pack], capture_output=True, text=True, check=True)
    ours = {}
    for line in proc.stdout.splitlines():
        if line.startswith("CSV,vector_add,"):
            _, _, dtype, log2n, config, us, gbps = line.split(",")
            key = (dtype, int(log2n))
            if key not in ours or float(gbps) > ours[key][2]:
                ours[key] = (config, float(us), float(gbps))
    rows = []
    print(f"GPU: {torch.cuda.get_device_name()}")
    print(f"{'dtype':6s} {'n':>6s} {'config':8s} {'tp us':>9s} {'tp GB/s':>9s} {'torch us':>9s} {'torch GB/s':>10s} {'ratio':>6s}")
    for (dtype, log2n), (config, us, gbps) in sorted(ours.items()):
        t_us, t_gbps = torch_add_gbps(torch.float32 if dtype == "fp32" else torch.float16, 1 << log2n)
        ratio = gbps / t_gbps
        rows.append({"dtype": dtype, "log2n": log2n, "config": config, "tritonpack_us": us, "tritonpack_gbps": gbps,
                     "torch_us": t_us, "torch_gbps": t_gbps, "ratio": ratio})
        print(f"{dtype:6s} 2^{log2n:<4d} {config:8s} {us:9.2f} {gbps:9.1f} {t_us:9.2f} {t_gbps:10.1f} {ratio:6.3f}")
    if prefix:
        with open(prefix + ".csv", "w", newline="") as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        with open(prefix + ".json", "w") as f:
            json.dump({"gpu": torch.cuda.get_device_name(), "rows": rows}, f, indent=2)


if __name__ == "__main__":
    main()
