#!/usr/bin/env bash
# Everything that needs a GPU, in one call (the GPU machine's time is short): build if needed,
# compile the shipped kernels, unit + GPU tests, compute-sanitizer, `tritonpack run`, benchmarks.
# Results go to $OUT (default ./out). Usage: scripts/gpu-check.sh [build-folder]
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT" "$B/packs"
B=$(CDPATH= cd -- "$B" && pwd)  # absolute: the paths below are handed to programs run elsewhere
export TRITONPACK_PYTHON_DIR=$PWD/python TRITONPACK_TEST_PACKS=$B/packs TRITONPACK_SOURCE_DIR=$PWD
export TRITONPACK_CACHE_DIR=${TRITONPACK_CACHE_DIR:-/tmp/tritonpack-cache}
status=0
step() { echo; echo "=== $*"; }
step "device"; nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/device.txt"
step "compile shipped kernels"
for k in vector_add softmax fmha attention; do
  "$B/tritonpack" compile "kernels/$k/$k.toml" -o "$B/packs/$k.tpack" || status=1
done
for k in attention_bshd attention_sm90 attention_sm90_bshd attention_decode attention_decode_bshd attention_fp8 \
         attention_fp8_vt; do
  "$B/tritonpack" compile "kernels/attention/$k.toml" -o "$B/packs/$k.tpack" || status=1
done
"$B/tritonpack" compile kernels/softmax/softmax.toml -o "$B/packs/softmax_ir.tpack" --keep-ir || status=1
# The shipped matmul: matmul_shipped.tpack, as matmul.tpack is the test kernel tests/kernels/matmul.
"$B/tritonpack" compile kernels/matmul/matmul.toml -o "$B/packs/matmul_shipped.tpack" || status=1
# Test kernels: global scratch, clusters, a persistent grid (SM_COUNT); and kernels as Triton users
# write them (autotune configs, heuristics, string constexprs, launch variables, host tensor
# descriptors, Gluon); a kernel in steps.
for k in scratch_copy cluster_add matmul layernorm softmax_h desc_matmul gluon_add gluon_tma_copy desc_scale \
         persistent_add two_step; do
  "$B/tritonpack" compile "tests/kernels/$k/$k.toml" -o "$B/packs/$k.tpack" || status=1
done
# TensorRT-LLM PluginGen's FMHA config: converted, compiled, and asked what its rules mean.
"$B/tritonpack" import-plugingen tests/plugingen/fmha_kernel_config.py -o "$B/packs/fmha_plugingen.toml" || status=1
"$B/tritonpack" compile "$B/packs/fmha_plugingen.toml" -o "$B/packs/fmha_plugingen.tpack" || status=1
"$B/tritonpack" shapes "$B/packs/fmha_plugingen.tpack" -i Q=2x4x1000x64 -i K=2x4x1000x64 -i V=2x4x1000x64 \
  -p sm_scale=0.125 -p num_heads=4 2>&1 | tee "$OUT/shapes_plugingen.txt" || status=1
"$B/tritonpack" shapes "$B/packs/fmha.tpack" -i Q=2x4x1000x128:bf16 -i K=2x4x1000x128:bf16 -i V=2x4x1000x128:bf16 \
  -p sm_scale=0.088 2>&1 | tee "$OUT/shapes_fmha.txt" || status=1
"$B/tritonpack" inspect "$B/packs/vector_add.tpack" > "$OUT/inspect_vector_add.txt" 2>&1 || status=1
"$B/tritonpack" inspect "$B/packs/softmax.tpack" > "$OUT/inspect_softmax.txt" 2>&1 || status=1
"$B/tritonpack" inspect "$B/packs/matmul_shipped.tpack" > "$OUT/inspect_matmul_shipped.txt" 2>&1 || status=1
step "unit tests"; "$B/tests/tritonpack_unit_tests" > "$OUT/unit_tests.log" 2>&1 || status=1; tail -3 "$OUT/unit_tests.log"
if [ -x "$B/tests/c/tritonpack_capi_c_test" ]; then step "C API test (C)"; "$B/tests/c/tritonpack_capi_c_test" > "$OUT/capi_c_test.log" 2>&1 || status=1; tail -2 "$OUT/capi_c_test.log"; fi
step "GPU tests"; "$B/tests/gpu/tritonpack_gpu_tests" > "$OUT/gpu_tests.log" 2>&1 || status=1; grep -E "^\[  (FAILED|PASSED|SKIPPED)|tests ran" "$OUT/gpu_tests.log"
step "compute-sanitizer (memcheck) on the GPU tests"
compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tests/gpu/tritonpack_gpu_tests" > "$OUT/sanitizer.log" 2>&1 || status=1
grep -E "ERROR SUMMARY|PASSED|FAILED" "$OUT/sanitizer.log" | tail -4
# Issue 13's thread mix with the real driver (tests/gpu/stress_gpu_test.cpp): 8 threads launch
# vector_add and enqueue the attention plugin, every output against its reference, while others
# unload, replace and clone them. Longer alone, then the default 400 operations under memcheck with
# leak checking (the fixture releases the primary context at the end: what is left is a leak).
step "stress: threads mixing launch, unload, select and plugin lifetimes (2000 operations; seed 13)"
TRITONPACK_STRESS_OPS=2000 "$B/tests/gpu/tritonpack_gpu_tests" --gtest_filter='StressGpu.*' > "$OUT/stress_gpu.log" 2>&1 || status=1
grep -E "^stress:|^\[  (FAILED|PASSED|SKIPPED)" "$OUT/stress_gpu.log"
step "compute-sanitizer (memcheck, leak check) on the stress test"
compute-sanitizer --tool memcheck --leak-check full --error-exitcode 9 "$B/tests/gpu/tritonpack_gpu_tests" \
  --gtest_filter='StressGpu.*' > "$OUT/sanitizer_stress.log" 2>&1 || status=1
grep -E "^stress:|ERROR SUMMARY|LEAK SUMMARY" "$OUT/sanitizer_stress.log" | tail -3
if [ -x "$B/tensorrt/tritonpack_tensorrt_gpu_tests" ]; then
  # The TensorRT adapter (docs/tensorrt.md): the harness's phases on the GPU, and through the lean
  # runtime's registry when it was carried (else that test reports itself skipped).
  step "TensorRT adapter GPU tests"
  export TRITONPACK_TENSORRT_GENERIC_LIBRARY=$B/tensorrt/libtritonpack_tensorrt.so
  export TRITONPACK_TENSORRT_LEAN=$B/tensorrt/libnvinfer_lean.so.10
  [ -f "$B/tensorrt/libnvinfer_lean.so.10.xz" ] && [ ! -f "$TRITONPACK_TENSORRT_LEAN" ] && \
    python3 -c 'import lzma, shutil, sys; shutil.copyfileobj(lzma.open(sys.argv[1]), open(sys.argv[2], "wb"))' \
      "$B/tensorrt/libnvinfer_lean.so.10.xz" "$TRITONPACK_TENSORRT_LEAN"
  "$B/tensorrt/tritonpack_tensorrt_gpu_tests" > "$OUT/tensorrt_gpu_tests.log" 2>&1 || status=1
  grep -E "^\[  (FAILED|PASSED|SKIPPED)|tests ran" "$OUT/tensorrt_gpu_tests.log"
  compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tensorrt/tritonpack_tensorrt_gpu_tests" \
    > "$OUT/sanitizer_tensorrt.log" 2>&1 || status=1
  grep -E "ERROR SUMMARY" "$OUT/sanitizer_tensorrt.log" | tail -1
  if [ -x "$B/tensorrt/tritonpack_tensorrt_registry_demo" ]; then
    # examples/tensorrt/registry_demo: the fmha pack through the lean registry, then its runtime
    # phase against the float64 reference (exit 77: the lean runtime was not carried).
    step "TensorRT registry_demo (fp16 D=64, bf16 D=128)"
    for case in "--dtype fp16 --head-size 64" "--dtype bf16 --head-size 128"; do
      # shellcheck disable=SC2086  # the options are words
      "$B/tensorrt/tritonpack_tensorrt_registry_demo" --lean "$TRITONPACK_TENSORRT_LEAN" \
        --plugins "$TRITONPACK_TENSORRT_GENERIC_LIBRARY" --pack "$B/packs/fmha.tpack" --seq 257 $case \
        >> "$OUT/registry_demo.txt" 2>&1
      rc=$?
      [ $rc -eq 0 ] || [ $rc -eq 77 ] || status=1
      echo "registry_demo $case: exit $rc"
    done
    grep -E "tactic|skipped" "$OUT/registry_demo.txt"
  fi
fi
step "tritonpack run"
"$B/tritonpack" run "$B/packs/vector_add.tpack" -t T=fp16 -a n_elements=1000003 --bench 100 || status=1
"$B/tritonpack" run "$B/packs/softmax.tpack" -t T=bf16 -a n_rows=4096 -a n_cols=1000 -a input_row_stride=1000 \
  -a output_row_stride=1000 -a scale=0.125 --pin BLOCK_SIZE=1024 --bench 100 --json > "$OUT/run_softmax.json" || status=1
cat "$OUT/run_softmax.json"
step "tritonpack run: the test kernels, fmha and the shipped matmul, every output against its reference (\$OUT/run_<kernel>.json)"
# The launches of the run_<kernel> CTest entries (tests/gpu/CMakeLists.txt).
declare -A run_args=(
  [matmul]="-t T=bf16 -a M=300 -a N=200 -a K=129 -a stride_am=129 -a stride_ak=1 -a stride_bk=200 -a stride_bn=1 -a stride_cm=203 -a stride_cn=1 --pin ACTIVATION=leaky_relu --seed 5"
  [layernorm]="-t T=fp16 -a M=1000 -a N=1000 -a stride=1003 -a eps=1e-5 --seed 6"
  [softmax_h]="-t T=bf16 -a n_rows=1000 -a n_cols=3000 -a input_row_stride=3000 -a output_row_stride=3001 --seed 7"
  [desc_matmul]="-t T=fp16 -a M=300 -a N=136 -a K=200 --seed 8"
  [gluon_add]="-t T=fp16 -a n_elements=1000003 --seed 9"
  [gluon_tma_copy]="-t T=bf16 -a M=300 -a N=200 --seed 10"
  [desc_scale]="-t T=fp16 -a M=300 -a N=200 -a scale=0.5 --seed 12"
  [persistent_add]="-t T=fp16 -a n_elements=1000003 --seed 18"
  [two_step]="-t T=fp32 -a n=1000003 --seed 19"
  [fmha]="-t T=fp16 -a B=2 -a H=4 -a S=1000 -a D=64 -a sm_scale=0.125 --seed 11"
  [matmul_shipped]="-t T=fp16 -a M=300 -a N=200 -a K=129 --seed 13"
  [attention]="-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 14"
  [attention_bshd]="-t T=bf16 -a batch=2 -a heads_q=6 -a heads_kv=3 -a seq_q=1000 -a seq_kv=1017 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 17"
  [attention_sm90]="-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 14"
  [attention_sm90_bshd]="-t T=bf16 -a batch=2 -a heads_q=6 -a heads_kv=3 -a seq_q=1000 -a seq_kv=1017 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 17"
  [attention_fp8]="-t T=fp8e4nv -t TO=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 26"
  [attention_fp8_vt]="-t T=fp8e4nv -t TO=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 26"
  [attention_decode]="-t T=fp16 -a batch=4 -a heads_q=32 -a heads_kv=8 -a seq_q=1 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 30"
)
run_kernels="matmul layernorm softmax_h desc_matmul gluon_add gluon_tma_copy desc_scale persistent_add two_step fmha matmul_shipped attention attention_bshd attention_sm90 attention_sm90_bshd attention_decode attention_fp8 attention_fp8_vt"
for k in $run_kernels; do
  # shellcheck disable=SC2086  # the options are words
  "$B/tritonpack" run "$B/packs/$k.tpack" ${run_args[$k]} --json > "$OUT/run_$k.json" || status=1
  python3 -c 'import json, sys; v = json.load(open(sys.argv[1]))["verify"]; print(sys.argv[2], "PASSED" if v["passed"] else "FAILED", v["message"])' \
    "$OUT/run_$k.json" "$k" || status=1
done
step "compute-sanitizer (memcheck) on tritonpack run of the test kernels, fmha and the shipped matmul"
for k in $run_kernels; do
  # shellcheck disable=SC2086
  compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tritonpack" run "$B/packs/$k.tpack" ${run_args[$k]} \
    > "$OUT/sanitizer_run_$k.log" 2>&1 || status=1
  echo "$k: $(grep -E "ERROR SUMMARY" "$OUT/sanitizer_run_$k.log" | tail -1)"
done
step "benchmark: host cost per launch"
{ "$B/bench/bench_launch_overhead" "$B/packs/vector_add.tpack" "$B/packs/desc_scale.tpack" && python3 bench/launch_overhead_triton.py; } 2>&1 | tee "$OUT/launch_overhead.txt" || status=1
step "benchmark: the plugin core's enqueue vs Kernel::launch (shipped attention)"
"$B/bench/bench_plugin_enqueue" "$B/packs/fmha.tpack" 2>&1 | tee "$OUT/plugin_enqueue.txt" || status=1
step "benchmark: opening the shipped attention pack (tp_pack_open, first and best; tp_pack_verify)"
"$B/bench/bench_pack_open" "$B/packs/fmha.tpack" 20 --json "$OUT/pack_open.json" 2>&1 | tee "$OUT/pack_open.txt" || status=1
step "benchmark: vector add vs torch.add"
python3 bench/compare_vector_add.py "$B/bench/bench_vector_add_bandwidth" "$B/packs/vector_add.tpack" "$OUT/vector_add" 2>&1 | tee "$OUT/vector_add.txt" || status=1
echo; echo "gpu-check status: $status"
exit $status
