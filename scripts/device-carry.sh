#!/usr/bin/env bash
# Copies the binaries the GPU machine needs (the CLI, test and benchmark programs) from a build
# folder into .devbuild/, the folder the device tool carries (it is git-ignored), keeping the
# layout scripts/gpu-check.sh expects. They need glibc 2.34 and libstdc++ from GCC 11 or newer,
# which the GPU machine's image has; Python, Triton and the CUDA driver come from that machine.
# Usage: scripts/device-carry.sh [build-folder]
set -euo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
rm -rf .devbuild
mkdir -p .devbuild/tests/gpu .devbuild/bench
cp "$B/tritonpack" .devbuild/
cp "$B/tests/tritonpack_unit_tests" .devbuild/tests/
mkdir -p .devbuild/tests/c && cp "$B"/tests/c/tritonpack_capi_c_test .devbuild/tests/c/ 2>/dev/null || true
cp "$B"/tests/gpu/tritonpack_*_tests .devbuild/tests/gpu/ 2>/dev/null || true
cp "$B"/bench/bench_* .devbuild/bench/
# The TensorRT adapter's GPU test and the generic plugin library it loads; and with
# TRITONPACK_TENSORRT_LEAN_WHEEL=path.whl the lean TensorRT runtime's wheel (44 MB; gpu-check.sh
# takes libnvinfer_lean.so.10 out of it, whose 100 MB would not fit what the device tool carries).
if [ -x "$B/adapters/tensorrt/tests/tritonpack_tensorrt_gpu_tests" ]; then
  mkdir -p .devbuild/tensorrt
  cp "$B/adapters/tensorrt/tests/tritonpack_tensorrt_gpu_tests" "$B/adapters/tensorrt/libtritonpack_tensorrt.so" .devbuild/tensorrt/
  if [ -n "${TRITONPACK_TENSORRT_LEAN_WHEEL:-}" ]; then cp "$TRITONPACK_TENSORRT_LEAN_WHEEL" .devbuild/tensorrt/; fi
fi
du -sh .devbuild
