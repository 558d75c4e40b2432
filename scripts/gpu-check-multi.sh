#!/usr/bin/env bash
# Several GPUs in one process (issue 12), the C++ side in one short call on a machine with two or
# more GPUs: the runtime on every GPU, then the TensorRT adapter's two-GPU tests (both GPUs' engines
# at once on two threads, plugins cloned across GPUs, destroyed in every order), each also under
# compute-sanitizer. The PyTorch side (ops on cuda:1 with cuda:0 current, aoti_run --device 1) is
# scripts/gpu-check-torch.sh, which runs its two-GPU steps when it sees two GPUs.
# scripts/gpu-check.sh runs all of these too (the two-GPU tests skip themselves with one GPU).
# Results go to $OUT (default ./out-multi). Usage: scripts/gpu-check-multi.sh [build-folder]
# Exit status: 0 if every step passed, 77 (skipped) with fewer than two GPUs.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-$PWD/out-multi}
mkdir -p "$OUT" "$B/packs"
B=$(CDPATH= cd -- "$B" && pwd)  # absolute: the paths below are handed to programs run elsewhere
export TRITONPACK_PYTHON_DIR=$PWD/python TRITONPACK_TEST_PACKS=$B/packs TRITONPACK_SOURCE_DIR=$PWD
export TRITONPACK_CACHE_DIR=${TRITONPACK_CACHE_DIR:-/tmp/tritonpack-cache}
status=0
step() { echo; echo "=== $*"; }

step "devices"
nvidia-smi --query-gpu=index,name,driver_version,memory.total --format=csv | tee "$OUT/devices.txt"
count=$(nvidia-smi -L | grep -c '^GPU ')
if [ "$count" -lt 2 ]; then
  echo "gpu-check-multi: needs two GPUs, this machine has $count: nothing was run (skipped)"
  exit 77
fi

step "compile the packs the tests use"
for k in vector_add fmha; do
  [ -f "$B/packs/$k.tpack" ] || "$B/tritonpack" compile "kernels/$k/$k.toml" -o "$B/packs/$k.tpack" || status=1
done

step "the runtime on every GPU of the process"
"$B/tests/gpu/tritonpack_gpu_tests" --gtest_filter='Gpu.EveryGpuOfTheProcessRunsTheKernel' \
  > "$OUT/runtime_gpus.log" 2>&1 || status=1
grep -E "^\[  (FAILED|PASSED|SKIPPED)|tests ran" "$OUT/runtime_gpus.log"
compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tests/gpu/tritonpack_gpu_tests" \
  --gtest_filter='Gpu.EveryGpuOfTheProcessRunsTheKernel' > "$OUT/runtime_gpus_sanitizer.log" 2>&1 || status=1
grep -E "ERROR SUMMARY" "$OUT/runtime_gpus_sanitizer.log" | tail -1

if [ -x "$B/tensorrt/tritonpack_tensorrt_gpu_tests" ]; then
  step "TensorRT adapter on two GPUs (TensorRTTwoGpus.*), then under compute-sanitizer"
  export TRITONPACK_TENSORRT_GENERIC_LIBRARY=$B/tensorrt/libtritonpack_tensorrt.so
  "$B/tensorrt/tritonpack_tensorrt_gpu_tests" --gtest_filter='TensorRTTwoGpus.*' \
    > "$OUT/tensorrt_two_gpus.log" 2>&1 || status=1
  grep -E "^\[  (FAILED|PASSED|SKIPPED)|tests ran|Failure" "$OUT/tensorrt_two_gpus.log" | head -20
  compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tensorrt/tritonpack_tensorrt_gpu_tests" \
    --gtest_filter='TensorRTTwoGpus.*' > "$OUT/tensorrt_two_gpus_sanitizer.log" 2>&1 || status=1
  grep -E "^\[  (FAILED|PASSED)|ERROR SUMMARY" "$OUT/tensorrt_two_gpus_sanitizer.log" | tail -3
else
  echo "no $B/tensorrt/tritonpack_tensorrt_gpu_tests (scripts/device-carry.sh carries it)"; status=1
fi

echo; echo "gpu-check-multi status: $status"
exit $status
