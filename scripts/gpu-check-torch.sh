#!/usr/bin/env bash
# The PyTorch op library on the GPU machine (docs/torch.md), in one call: loads the carried
# libtritonpack_torch.so (built by this machine's scripts/device-carry.sh against the PyPI torch
# 2.11.0+cu130, the GPU machine's own build) into the GPU machine's torch, runs the no-GPU tests
# there, compiles the shipped attention with Triton if gpu-check.sh has not, runs the GPU tests and
# the host-overhead benchmark, then the ONNX and AOTInductor tests and seed 01's attention block
# (examples/torch/attention_block.py build + run, the carried C++ program aoti_run on the .pt2).
# With two GPUs or more (issue 12): the GPU tests' cuda:1 cases run (one GPU: they report
# SKIPPED), the eager ones under compute-sanitizer too, and aoti_run --device 1 on the first
# block, all with cuda:0 current.
# Results go to $OUT (default ./out): 7 files.
# Usage: scripts/gpu-check-torch.sh [carried-folder, default .devbuild]
#   TRITONPACK_TORCH_PYTHON: the interpreter with torch (default /opt/torch/.venv/bin/python, else python3)
#   TRITONPACK_TORCH_BLOCKS: the attention blocks built and run, "dtype head-size seq-len;..."
#     (default "fp16 64 128;bf16 128 1000")
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-.devbuild}
OUT=${OUT:-$PWD/out}
mkdir -p "$OUT" "$B/packs"
B=$(CDPATH= cd -- "$B" && pwd)  # absolute: the paths below are handed to programs run elsewhere
PY=${TRITONPACK_TORCH_PYTHON:-/opt/torch/.venv/bin/python}
[ -x "$PY" ] || PY=python3
export TRITONPACK_PYTHON_DIR=$PWD/python TRITONPACK_CACHE_DIR=${TRITONPACK_CACHE_DIR:-/tmp/tritonpack-cache}
export TRITONPACK_TORCH_LIBRARY=$B/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python PYTHONDONTWRITEBYTECODE=1
export TRITONPACK_TORCH_TEST_PACKS=$B/torch/packs
status=0
step() { echo; echo "=== $*"; }
GPUS=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU')
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
step "compile PluginGen's FMHA config (an int field, three outputs) (if gpu-check.sh has not)"
if [ ! -f "$B/packs/fmha_plugingen.tpack" ]; then
  "$B/tritonpack" import-plugingen tests/plugingen/fmha_kernel_config.py -o "$B/packs/fmha_plugingen.toml" &&
    "$B/tritonpack" compile "$B/packs/fmha_plugingen.toml" -o "$B/packs/fmha_plugingen.tpack" || status=1
fi
export TRITONPACK_TORCH_PLUGINGEN_PACK=$B/packs/fmha_plugingen.tpack
step "GPU tests: eager and torch.compile vs SDPA float64, opcheck (both ops), streams, threads, refusals; cuda:1 with $GPUS GPU(s)"
"$PY" tests/torch/test_ops_gpu.py "$B/packs/fmha.tpack" > "$OUT/torch_gpu_tests.log" 2>&1; rc=$?
[ $rc -eq 0 ] || status=1
grep -E "^(PASSED|FAILED|SKIPPED)|^  torch|passed|failed" "$OUT/torch_gpu_tests.log"
step "compute-sanitizer (memcheck) on the eager GPU tests, both ops (torch.compile and threads left out: too slow under it)"
TRITONPACK_TORCH_CASES=eager_matches_sdpa_float64,plugingen_op_matches_the_reference_and_opcheck_passes,refusals_are_runtime_errors \
  timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 "$PY" tests/torch/test_ops_gpu.py "$B/packs/fmha.tpack" \
  > "$OUT/torch_sanitizer.log" 2>&1 || status=1
if [ "$GPUS" -ge 2 ]; then
  echo "--- the eager cuda:1 cases, cuda:0 current" >> "$OUT/torch_sanitizer.log"
  TRITONPACK_TORCH_CASES=eager_on_cuda1_while_cuda0_is_current,inputs_split_across_two_gpus_are_refused,two_threads_alternating_between_two_gpus \
    timeout 300 compute-sanitizer --tool memcheck --error-exitcode 9 "$PY" tests/torch/test_ops_gpu.py "$B/packs/fmha.tpack" \
    >> "$OUT/torch_sanitizer.log" 2>&1 || status=1
fi
grep -E "^(PASSED|FAILED|SKIPPED)|ERROR SUMMARY" "$OUT/torch_sanitizer.log" | tail -9
step "benchmark: host overhead of the op vs SDPA eager (tiny shapes)"
"$PY" bench/torch_op_overhead.py "$B/packs/fmha.tpack" "$OUT/torch_op_overhead.csv" 2>&1 | tee "$OUT/torch_op_overhead.txt" || status=1
step "items 3-5 (docs/torch.md): ONNX export, AOTInductor packaging, the attention block end to end"
# One log for all of it ($OUT holds at most 8 files): torch_export_aoti.log.
LOG=$OUT/torch_export_aoti.log
: > "$LOG"
TORCH_LIB=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "lib"))')
# Python's aoti_load_package segfaults in this image unless the system libstdc++ is preloaded (a
# libstdc++ mix in std::regex, also for models without custom ops; not a tritonpack bug).
PRELOAD=$(g++ -print-file-name=libstdc++.so.6 2>/dev/null || true)
for t in test_onnx_export test_aoti_package; do
  echo "--- tests/torch/$t.py" >> "$LOG"
  LD_PRELOAD=$PRELOAD timeout 240 "$PY" tests/torch/$t.py >> "$LOG" 2>&1; rc=$?
  [ $rc -eq 0 ] || [ $rc -eq 77 ] || status=1
  echo "$t: exit $rc$([ $rc -eq 77 ] && echo ' (skipped: onnx/onnxscript not installed here)')" | tee -a "$LOG"
done
AB=$B/attention_block
AOTI_RUN=$B/torch/aoti_run
export TRITONPACK_AOTI_RUN=$AOTI_RUN
if [ ! -x "$AOTI_RUN" ]; then
  echo "no $AOTI_RUN (scripts/device-carry.sh carries it)" | tee -a "$LOG"; status=1
else
  # The op library, torch's libraries and the wheel's libcudart (the op library needs
  # libcudart.so.13; a process with Python finds it through torch, this program does not).
  CUDART_DIR=$("$PY" -c 'import glob, os, torch
d = os.path.dirname(os.path.dirname(torch.__file__))
m = sorted(glob.glob(d + "/nvidia/*/lib/libcudart.so.*") + glob.glob(d + "/nvidia/*/*/lib/libcudart.so.*"))
print(os.path.dirname(m[0]) if m else "")')
  export LD_LIBRARY_PATH=$B/torch:$TORCH_LIB${CUDART_DIR:+:$CUDART_DIR}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  echo "aoti_run's libraries: $(ldd "$AOTI_RUN" | grep -cE 'not found') not found; libcudart from ${CUDART_DIR:-the system}" | tee -a "$LOG"
  ldd "$AOTI_RUN" | grep -E "not found|cudart|tritonpack" >> "$LOG"
  # dtype, head size, sequence length per block (TRITONPACK_TORCH_BLOCKS="fp16 64 128" runs one).
  IFS=';' read -ra blocks <<< "${TRITONPACK_TORCH_BLOCKS:-fp16 64 128;bf16 128 1000}"
  for cfg in "${blocks[@]}"; do
    set -- $cfg
    out=$AB/$1-d$2
    mkdir -p "$out" && cp "$B/packs/fmha.tpack" "$out/fmha.tpack"
    a=(--num-heads 8 --head-size "$2" --batch-size 2 --seq-len "$3" --dtype "$1" --out "$out")
    echo "--- attention_block.py build ${a[*]}" >> "$LOG"
    timeout 200 "$PY" examples/torch/attention_block.py build "${a[@]}" >> "$LOG" 2>&1 || status=1
    echo "--- aoti_run on the build's cases (sequence lengths 77 and 300, not the export's)" | tee -a "$LOG"
    timeout 60 "$AOTI_RUN" "$out/fmha.tpack" "$out/attention.pt2" "$out/cases" 2>&1 | tee -a "$LOG"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    if [ "$GPUS" -ge 2 ] && [ "$cfg" = "${blocks[0]}" ]; then
      echo "--- aoti_run --device 1: the .pt2 compiled on cuda:0, loaded for cuda:1, cuda:0 current" | tee -a "$LOG"
      timeout 60 "$AOTI_RUN" "$out/fmha.tpack" "$out/attention.pt2" "$out/cases" --device 1 2>&1 | tee -a "$LOG"
      [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
    fi
    echo "--- attention_block.py run ${a[*]} --benchmark" | tee -a "$LOG"
    timeout 120 "$PY" examples/torch/attention_block.py run "${a[@]}" --benchmark 2>&1 | tee -a "$LOG"
    [ "${PIPESTATUS[0]}" -eq 0 ] || status=1
  done
fi
grep -E "^(PASSED|FAILED)|passed$|failed$|exit|Python" "$LOG" | sort | uniq -c | sort -rn | head -20
echo; echo "gpu-check-torch status: $status"
exit $status
