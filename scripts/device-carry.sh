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
# The shared runtime library, for the Python benchmarks' ctypes (bench/matmul_tuning.py).
mkdir -p .devbuild/lib && cp -P "$B"/libtritonpack_runtime.so* .devbuild/lib/
# The TensorRT adapter's GPU test and the generic plugin library it loads; and the lean TensorRT
# runtime (libnvinfer_lean.so.10, fetched by setup.sh into .cache/tensorrt-lean): its 100 MB would
# not fit what the device tool carries (64 MiB), so it travels xz-compressed (about 15 MB,
# compressed once and kept beside it); gpu-check.sh decompresses it.
if [ -x "$B/adapters/tensorrt/tests/tritonpack_tensorrt_gpu_tests" ]; then
  mkdir -p .devbuild/tensorrt
  cp "$B/adapters/tensorrt/tests/tritonpack_tensorrt_gpu_tests" "$B/adapters/tensorrt/libtritonpack_tensorrt.so" .devbuild/tensorrt/
  cp "$B/adapters/tensorrt/example/tritonpack_tensorrt_registry_demo" .devbuild/tensorrt/ 2>/dev/null || true
  lean=${TRITONPACK_TENSORRT_LEAN:-.cache/tensorrt-lean/libnvinfer_lean.so.10}
  if [ -f "$lean" ]; then
    [ -f "$lean.xz" ] && [ "$lean.xz" -nt "$lean" ] || xz -T0 -6 -k -c "$lean" > "$lean.xz"
    cp "$lean.xz" .devbuild/tensorrt/
  else
    echo "device-carry: no $lean (scripts/setup.sh fetches it): the lean-registry GPU test will skip" >&2
  fi
fi
# The PyTorch op library (built against the PyPI torch 2.11.0+cu130, the GPU machine's build; it
# links no Python) and the no-GPU tests' packs, for scripts/gpu-check-torch.sh.
if [ -f "$B/adapters/torch/libtritonpack_torch.so" ]; then
  mkdir -p .devbuild/torch/packs
  cp "$B/adapters/torch/libtritonpack_torch.so" .devbuild/torch/
  cp "$B"/adapters/torch/tests/packs/*.tpack .devbuild/torch/packs/
  # The AOTInductor C++ program (examples/torch/aoti_run; it finds the op library and torch's
  # libraries through LD_LIBRARY_PATH there).
  cp "$B/examples/torch/aoti_run" .devbuild/torch/ 2>/dev/null || true
fi
du -sh .devbuild
