#!/usr/bin/env bash
# The PyTorch op library on the GPU machine (docs/torch.md), in one call: loads the carried
# libtritonpack_torch.so (built by this machine's scripts/device-carry.sh against the PyPI torch
# 2.11.0+cu130, the GPU machine's own build) into the GPU machine's torch, runs the no-GPU tests
# there, compiles the shipped attention with Triton if gpu-check.sh has not, runs the GPU tests and
# the host-overhead benchmark. Results go to $OUT (default ./out).
# Usage: scripts/gpu-check-torch.sh [carried-folder, default .devbuild]
#   TRITONPACK_TORCH_PYTHON: the interpreter with torch (default /opt/torch/.venv/bin/python, else python3)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-.devbuild}
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT" "$B/packs"
PY=${TRITONPACK_TORCH_PYTHON:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
export TRITONPACK_PYTHON_DIR=$PWD/python TRITONPACK_CACHE_DIR=${TRITONPACK_CACHE_DIR:-/tmp/tritonpack-cache}
export TRITONPACK_TORCH_LIBRARY=$PWD/$B/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python PYTHONDONTWRITEBYTECODE=1
export TRITONPACK_TORCH_TEST_PACKS=$PWD/$B/torch/packs
status=0
step() { echo; echo "=== $*"; }
if [ ! -f "$TRITONPACK_TORCH_LIBRARY" ]; then
  echo "gpu-check-torch: no $TRITONPACK_TORCH_LIBRARY (run scripts/device-carry.sh on a machine with torch first)"
  exit 1
fi
step "versions"
"$PY" -c 'import sys, torch; print("python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.get_device_name())' \
  2>&1 | tee "$OUT/torch_versions.txt" || status=1
step "the library's dependencies (nothing Python-specific)"
readelf -d "$TRITONPACK_TORCH_LIBRARY" | grep NEEDED | tee "$OUT/torch_library_needed.txt"
step "no-GPU tests (meta, fake tensors, compile and export tracing) on this machine's torch"
"$PY" tests/torch/test_ops_meta.py > "$OUT/torch_meta_tests.log" 2>&1 || status=1
grep -E "^(PASSED|FAILED)|passed|failed" "$OUT/torch_meta_tests.log"
step "compile the shipped attention (if gpu-check.sh has not)"
[ -f "$B/packs/fmha.tpack" ] || "$B/tritonpack" compile kernels/fmha/fmha.toml -o "$B/packs/fmha.tpack" || status=1
step "GPU tests: eager and torch.compile vs SDPA float64, opcheck, streams, threads, refusals"
"$PY" tests/torch/test_ops_gpu.py "$B/packs/fmha.tpack" > "$OUT/torch_gpu_tests.log" 2>&1; rc=$?
[ $rc -eq 0 ] || status=1
grep -E "^(PASSED|FAILED|SKIPPED)|^  torch|passed|failed" "$OUT/torch_gpu_tests.log"
step "benchmark: host overhead of the op vs SDPA eager (tiny shapes)"
"$PY" bench/torch_op_overhead.py "$B/packs/fmha.tpack" "$OUT/torch_op_overhead.csv" 2>&1 | tee "$OUT/torch_op_overhead.txt" || status=1
echo; echo "gpu-check-torch status: $status"
exit $status
