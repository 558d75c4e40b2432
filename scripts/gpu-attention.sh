#!/usr/bin/env bash
# The attention family (kernels/attention, docs/attention.md) on a GPU machine, in one run:
#   1. compile attention, attention_bshd, attention_d256 (head size 256), attention_decode and
#      attention_decode_bshd (split-KV, two steps), and when the GPU is sm_90 attention_sm90 and attention_sm90_bshd (the Gluon
#      member), attention_fp8 (FP8 inputs) and attention_fp8_vt (FP8, V given transposed); and
#      seed 01's fmha;
#   2. `tritonpack tune` the attention pack, and on sm_90 the attention_sm90 pack
#      (skipped with TUNE=0); the tuned packs replace the compiled ones;
#   3. `tritonpack run` on the launches the GPU tests use (grouped-query heads, ragged lengths and
#      multiples of 16, rows that see no key, decode, [B, S, H, D]), each verified against the
#      float64 reference,
#      each also under compute-sanitizer memcheck (and racecheck for the warp-specialized member:
#      its partitions share buffers through mbarriers);
#   3b. every variant of every pack (scripts/gpu_variants.py, step `variants`): each against the
#      float64 reference under memcheck, the sm_90 member's under racecheck too;
#   4. with the carried PyTorch op library: the sm_90 and decode members as torch ops, checked in
#      eager and torch.compile (tests/torch/attention_sm90_op_gpu.py, attention_decode_op_gpu.py), and
#      the FP8 members with their output dtype as the op's TO (attention_fp8_op_gpu.py);
#   5. bench/attention.py: tritonpack (every member) vs SDPA cuDNN vs SDPA flash vs Triton's JIT vs
#      the seed kernel.
# Usage: scripts/gpu-attention.sh [build-folder]  (a build, or .devbuild from scripts/device-carry.sh)
#   STEPS: the phases to run, in the order given (default "compile tune runs variants torch bench",
#   1-5 above; e.g. "compile tune bench runs" to have the numbers first when time is short). A phase
#   works on the packs an earlier one (of this run or a previous one) left in the build folder.
#   PACKS: the packs to compile, run and benchmark (default every one this GPU runs; the benchmark
#   needs the portable attention pack); TUNED: the packs to tune (default "attention
#   attention_sm90 attention_fp8 attention_fp8_vt"; TUNE=0 tunes none); SANITIZE (default 1:
#   compute-sanitizer on every run); JOBS (default 12: variants run at once); ROUNDS (default 3)
#   and KINDS (default "mha gqa seed decode", and d256 with the attention_d256 pack) for the
#   benchmark.
# Results in $OUT (default ./gpu-attention-out). Exit status: 0 if every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-$PWD/gpu-attention-out}
PY=${PYTHON:-python3}
mkdir -p "$OUT" "$B/packs"
B=$(CDPATH= cd -- "$B" && pwd)  # absolute: the paths below are handed to programs run elsewhere
export TRITONPACK_PYTHON_DIR=${TRITONPACK_PYTHON_DIR:-$PWD/python}
status=0
step() { echo; echo "=== $* (at ${SECONDS} s)"; }
fail() { echo "FAILED: $*"; status=1; }

STEPS=${STEPS:-compile tune runs variants torch bench}
sm90=0
nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | grep -q '^9\.0' && sm90=1
pack=$B/packs/attention.tpack

# The packs: PACKS names some (default: every one this GPU runs; the sm_90 ones need sm_90).
all_packs="attention attention_bshd attention_d256 fmha attention_decode attention_decode_bshd"
[ $sm90 = 1 ] && all_packs+=" attention_sm90 attention_sm90_bshd attention_fp8 attention_fp8_vt"
[ $sm90 = 1 ] || echo "not an sm_90 GPU: the attention_sm90, attention_fp8 and attention_fp8_vt members are skipped"
PACKS=${PACKS:-$all_packs}
want() { [[ " $PACKS " == *" $1 "* ]]; }

phase_compile() {
step "compile: $PACKS"
for k in $PACKS; do
  src=kernels/attention/$k.toml
  [ "$k" = fmha ] && src=kernels/fmha/fmha.toml
  "$B/tritonpack" compile "$src" -o "$B/packs/$k.tpack" || fail "compile $k"
done
}

# Tuned packs replace the compiled ones in $B/packs (the runs, the torch ops and the benchmark use
# them); the tuning reports go to $OUT.
phase_tune() {
if [ "${TUNE:-1}" = 1 ]; then
  for k in ${TUNED:-attention attention_sm90 attention_fp8 attention_fp8_vt}; do
    want "$k" || continue
    step "tune the $k pack"
    /usr/bin/time -f "tune $k: %e s" "$B/tritonpack" tune "$B/packs/$k.tpack" -o "$B/packs/${k}_tuned.tpack" \
      --report "$OUT/tune_$k" > "$OUT/tune_$k.txt" 2> "$OUT/tune_$k.log" || fail "tune $k"
    tail -1 "$OUT/tune_$k.log"
    [ -f "$B/packs/${k}_tuned.tpack" ] && mv "$B/packs/${k}_tuned.tpack" "$B/packs/$k.tpack"
  done
fi
}

phase_runs() {
step "tritonpack run: verified against the float64 reference, then under compute-sanitizer"
rm -f "$OUT/runs.log" "$OUT/sanitizer.log"
cases=(
  "attention|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 14"
  "attention|-t T=bf16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=300 -a seq_kv=127 -a D=64 -a causal=1 -a sm_scale=0.125 --seed 15"
  "attention|-t T=fp16 -a batch=4 -a heads_q=32 -a heads_kv=8 -a seq_q=1 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 16"
  "attention|-t T=fp16 -a batch=1 -a heads_q=16 -a heads_kv=16 -a seq_q=4097 -a seq_kv=4097 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 18"
  "attention|-t T=bf16 -a batch=1 -a heads_q=2 -a heads_kv=1 -a seq_q=17 -a seq_kv=1 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 19"
  "attention_bshd|-t T=bf16 -a batch=2 -a heads_q=6 -a heads_kv=3 -a seq_q=1000 -a seq_kv=1017 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 17"
  "attention_bshd|-t T=fp16 -a batch=1 -a heads_q=8 -a heads_kv=8 -a seq_q=127 -a seq_kv=127 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 20"
  "attention|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=4 -a seq_q=1024 -a seq_kv=2048 -a D=64 -a causal=1 -a sm_scale=0.125 --seed 21"
  "attention_bshd|-t T=bf16 -a batch=2 -a heads_q=4 -a heads_kv=2 -a seq_q=256 -a seq_kv=256 -a D=128 -a causal=0 -a sm_scale=0.088 --seed 22"
)
# Head size 256 (its own pack): ragged grouped-query causal, rows that see no key (the 128-row
# config), long keys with a negative scale.
d256_cases=(
  "attention_d256|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=256 -a causal=1 -a sm_scale=0.0625 --seed 50"
  "attention_d256|-t T=bf16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=300 -a seq_kv=127 -a D=256 -a causal=1 -a sm_scale=0.0625 -c m128n64w8 --seed 51"
  "attention_d256|-t T=fp16 -a batch=1 -a heads_q=8 -a heads_kv=1 -a seq_q=1000 -a seq_kv=4097 -a D=256 -a causal=0 -a sm_scale=-0.2 --seed 52"
)
# Split-KV decoding, with the key chunks the spec's `splits` dim computes from the shapes: one
# query row to more than 16 (two 64-row blocks), several chunks with a short last one, one chunk,
# rows that see no key, grouped-query heads, both layouts.
cases+=(
  "attention_decode|-t T=fp16 -a batch=4 -a heads_q=32 -a heads_kv=8 -a seq_q=1 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 30"
  "attention_decode|-t T=bf16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=16 -a seq_kv=4097 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 31"
  "attention_decode|-t T=fp16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=5 -a seq_kv=129 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 32"
  "attention_decode|-t T=fp16 -a batch=3 -a heads_q=4 -a heads_kv=1 -a seq_q=1 -a seq_kv=100 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 33"
  "attention_decode|-t T=bf16 -a batch=1 -a heads_q=6 -a heads_kv=3 -a seq_q=40 -a seq_kv=17 -a D=64 -a causal=1 -a sm_scale=-0.2 --seed 34"
  "attention_decode_bshd|-t T=fp16 -a batch=2 -a heads_q=16 -a heads_kv=2 -a seq_q=3 -a seq_kv=2050 -a D=128 -a causal=0 -a sm_scale=0.088 --seed 35"
  "attention_decode_bshd|-t T=bf16 -a batch=1 -a heads_q=8 -a heads_kv=8 -a seq_q=1 -a seq_kv=300 -a D=64 -a causal=1 -a sm_scale=0.125 --seed 36"
  # Query rows (batch * heads_q * seq_q: 6 and 105) that the combine step's four rows a program
  # do not divide: its last program has rows past the end.
  "attention_decode|-t T=fp16 -a batch=1 -a heads_q=6 -a heads_kv=3 -a seq_q=1 -a seq_kv=777 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 37"
  "attention_decode_bshd|-t T=bf16 -a batch=3 -a heads_q=5 -a heads_kv=1 -a seq_q=7 -a seq_kv=3001 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 38"
)
if [ $sm90 = 1 ]; then
  # The same launches through the sm_90 member (the BSHD ones through attention_sm90_bshd), and
  # lengths around its 128-row tiles and 128-key blocks.
  for c in "${cases[@]}"; do [[ $c == attention_decode* ]] || cases+=("${c/attention/attention_sm90}"); done
  cases+=(
    "attention_sm90|-t T=fp16 -a batch=1 -a heads_q=2 -a heads_kv=1 -a seq_q=255 -a seq_kv=257 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 23"
    "attention_sm90|-t T=bf16 -a batch=3 -a heads_q=4 -a heads_kv=4 -a seq_q=1000 -a seq_kv=4097 -a D=64 -a causal=0 -a sm_scale=-0.2 --seed 24"
    "attention_sm90_bshd|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=4097 -a seq_kv=129 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 25"
    # The 64-key-block config (what tuning picks for short sequences), forced.
    "attention_sm90|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 -c ws_n64 --seed 40"
    "attention_sm90|-t T=bf16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=300 -a seq_kv=127 -a D=64 -a causal=1 -a sm_scale=0.125 -c ws_n64 --seed 41"
    "attention_sm90|-t T=fp16 -a batch=3 -a heads_q=4 -a heads_kv=2 -a seq_q=1000 -a seq_kv=1000 -a D=64 -a causal=0 -a sm_scale=-0.2 -c ws_n64 --seed 42"
    "attention_sm90_bshd|-t T=bf16 -a batch=2 -a heads_q=6 -a heads_kv=3 -a seq_q=1000 -a seq_kv=1017 -a D=64 -a causal=1 -a sm_scale=0.125 -c ws_n64 --seed 43"
    # The descending key order (causal; tuning picks it for short sequences), forced: ragged
    # lengths, rows that see no key (seq_q > seq_kv), [B, S, H, D], both block sizes.
    "attention_sm90|-t T=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 -c ws_desc --seed 46"
    "attention_sm90|-t T=bf16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=300 -a seq_kv=127 -a D=64 -a causal=1 -a sm_scale=0.125 -c ws_n64_desc --seed 47"
    "attention_sm90|-t T=fp16 -a batch=3 -a heads_q=4 -a heads_kv=2 -a seq_q=1000 -a seq_kv=1000 -a D=64 -a causal=1 -a sm_scale=-0.2 -c ws_n64_desc --seed 48"
    "attention_sm90_bshd|-t T=bf16 -a batch=2 -a heads_q=6 -a heads_kv=3 -a seq_q=1000 -a seq_kv=1017 -a D=128 -a causal=1 -a sm_scale=0.088 -c ws_desc --seed 49"
    # The decode member's config without programmatic dependent launch (what the sm_80 variants
    # have; on sm_90 the launch_pdl config comes first), forced.
    "attention_decode|-t T=fp16 -a batch=2 -a heads_q=16 -a heads_kv=4 -a seq_q=7 -a seq_kv=3000 -a D=128 -a causal=1 -a sm_scale=0.088 -c n64s3 --seed 44"
    "attention_decode_bshd|-t T=bf16 -a batch=1 -a heads_q=8 -a heads_kv=2 -a seq_q=1 -a seq_kv=513 -a D=64 -a causal=0 -a sm_scale=0.125 -c n64s3 --seed 45"
    # FP8 inputs (e4m3 and e5m2), fp16 and bf16 outputs.
    "attention_fp8|-t T=fp8e4nv -t TO=fp16 -a batch=2 -a heads_q=8 -a heads_kv=2 -a seq_q=129 -a seq_kv=1000 -a D=128 -a causal=1 -a sm_scale=0.088 --seed 26"
    "attention_fp8|-t T=fp8e5 -t TO=bf16 -a batch=1 -a heads_q=4 -a heads_kv=4 -a seq_q=300 -a seq_kv=127 -a D=64 -a causal=1 -a sm_scale=0.125 --seed 27"
    "attention_fp8|-t T=fp8e4nv -t TO=bf16 -a batch=1 -a heads_q=16 -a heads_kv=16 -a seq_q=1024 -a seq_kv=1024 -a D=64 -a causal=0 -a sm_scale=0.125 --seed 28"
  )
  # The same FP8 launches with V given transposed ([B, HKV, D, SKV]).
  for c in "${cases[@]}"; do [[ $c == attention_fp8\|* ]] && cases+=("${c/attention_fp8/attention_fp8_vt}"); done
fi
cases+=("${d256_cases[@]}")
for c in "${cases[@]}"; do
  k=${c%%|*}
  a=${c#*|}
  p=$B/packs/$k.tpack
  want "$k" || continue
  # shellcheck disable=SC2086  # the options are words
  if "$B/tritonpack" run "$p" $a > "$OUT/run.txt" 2>&1; then
    echo "$k $a: $(grep -E '^verify' "$OUT/run.txt" | tr '\n' ' ')"
  else
    cat "$OUT/run.txt"; fail "run $k $a"
  fi
  cat "$OUT/run.txt" >> "$OUT/runs.log"
  if [ "${SANITIZE:-1}" = 1 ] && command -v compute-sanitizer > /dev/null; then
    # shellcheck disable=SC2086
    compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tritonpack" run "$p" $a > "$OUT/run.txt" 2>&1 ||
      { tail -5 "$OUT/run.txt"; fail "compute-sanitizer $k $a"; }
    { echo "--- $k $a"; grep -E "ERROR SUMMARY|^verify" "$OUT/run.txt"; } >> "$OUT/sanitizer.log"
    # racecheck is slow (every shared-memory access is tracked): the small sm_90 launches only.
    case "$k ${a##* }" in "attention_sm90 14" | "attention_sm90 19" | "attention_sm90_bshd 20" | "attention_sm90 23" | "attention_sm90 41" | \
        "attention_sm90 47")
      # shellcheck disable=SC2086
      # Its exit status counts the hazards racecheck reports on Triton's own warp-specialization
      # dispatch bytes too (ordered by a named barrier racecheck does not follow);
      # racecheck_hazards.py fails the run on any hazard on the kernel's own shared memory.
      timeout 120 compute-sanitizer --tool racecheck --racecheck-report all --show-backtrace no --print-limit 100000 \
        "$B/tritonpack" run \
        "$p" $a > "$OUT/run.txt" 2>&1 || { tail -5 "$OUT/run.txt"; fail "compute-sanitizer racecheck $k $a (did not finish)"; }
      grep -q "^verify: PASSED" "$OUT/run.txt" || fail "racecheck run $k $a: not verified"
      { echo "--- racecheck $k $a"; grep -E "^verify" "$OUT/run.txt"
        "$PY" scripts/racecheck_hazards.py "$OUT/run.txt" kernels/attention/attention_sm90.py attention_fwd_sm90 ||
          fail "racecheck $k $a"; } >> "$OUT/sanitizer.log"
      tail -1 "$OUT/sanitizer.log"
    esac
  fi
done
rm -f "$OUT/run.txt"
[ -f "$OUT/sanitizer.log" ] && grep -c "ERROR SUMMARY: 0 errors" "$OUT/sanitizer.log" | sed 's/^/compute-sanitizer runs with 0 errors: /'
}

# Every variant of the packs in PACKS (scripts/gpu_variants.py): each on a launch the runtime
# chooses it for (forced with --variant where it never would on this GPU: sm_80 variants), against
# the float64 reference under memcheck, and the sm_90 member's under racecheck too.
phase_variants() {
step "every variant: memcheck (and racecheck for the warp-specialized member), checked against the reference"
if [ "${SANITIZE:-1}" != 1 ] || ! command -v compute-sanitizer > /dev/null; then
  echo "every-variant step skipped: it runs under compute-sanitizer (SANITIZE=${SANITIZE:-1}; $(command -v compute-sanitizer || echo 'no compute-sanitizer'))"
  return
fi
packs=()
for k in $PACKS; do packs+=("$B/packs/$k.tpack"); done
"$PY" scripts/gpu_variants.py "$B/tritonpack" "$OUT/variants" "${packs[@]}" --jobs "${JOBS:-12}" || fail "every variant"
}

phase_torch() {

if want attention_sm90 && want attention_sm90_bshd && [ -f "$B/torch/libtritonpack_torch.so" ]; then
  step "the sm_90 member as PyTorch ops (descriptors built from torch tensors by the plugin core)"
  TRITONPACK_TORCH_LIBRARY=$B/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python PYTHONDONTWRITEBYTECODE=1 \
    "$PY" tests/torch/attention_sm90_op_gpu.py "$B/packs" > "$OUT/torch_sm90_ops.log" 2>&1 || fail "PyTorch ops (sm_90 member)"
  cat "$OUT/torch_sm90_ops.log"
fi
if want attention_decode && want attention_decode_bshd && [ -f "$B/torch/libtritonpack_torch.so" ]; then
  step "the split-KV decode member as PyTorch ops (two steps a call; eager, torch.compile, a CUDA graph)"
  TRITONPACK_TORCH_LIBRARY=$B/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python PYTHONDONTWRITEBYTECODE=1 \
    "$PY" tests/torch/attention_decode_op_gpu.py "$B/packs" > "$OUT/torch_decode_ops.log" 2>&1 || fail "PyTorch ops (decode member)"
  cat "$OUT/torch_decode_ops.log"
fi
if want attention_fp8 && want attention_fp8_vt && [ -f "$B/torch/libtritonpack_torch.so" ]; then
  step "the FP8 members as PyTorch ops (the output dtype as the dtype field TO)"
  TRITONPACK_TORCH_LIBRARY=$B/torch/libtritonpack_torch.so PYTHONPATH=$PWD/python PYTHONDONTWRITEBYTECODE=1 \
    "$PY" tests/torch/attention_fp8_op_gpu.py "$B/packs" > "$OUT/torch_fp8_ops.log" 2>&1 || fail "PyTorch ops (FP8 members)"
  cat "$OUT/torch_fp8_ops.log"
fi
}

phase_bench() {
step "benchmark: tritonpack vs SDPA cuDNN / flash vs Triton JIT vs the seed kernel"
[ -f "$pack" ] || { fail "no attention pack in $B/packs (run the compile step)"; return; }
lib=$(ls "$B"/lib/libtritonpack_runtime.so "$B"/libtritonpack_runtime.so 2>/dev/null | head -1)
members=()
for m in sm90 decode fp8 fp8_vt d256; do
  want "attention_$m" && members+=("--pack-${m/_/-}" "$B/packs/attention_$m.tpack")
done
want fmha && members+=(--fmha "$B/packs/fmha.tpack")
# shellcheck disable=SC2086  # KINDS is a list of words
"$PY" bench/attention.py --lib "$lib" --pack "$pack" "${members[@]}" --out "$OUT" \
  --rounds "${ROUNDS:-3}" --kinds ${KINDS:-mha gqa seed decode$(want attention_d256 && echo " d256")} ||
  fail "bench/attention.py"
}

for s in $STEPS; do
  case $s in
    compile | tune | runs | variants | torch | bench) ;;
    *) echo "unknown step '$s' (compile, tune, runs, variants, torch, bench)"; exit 2 ;;
  esac
done
for s in $STEPS; do "phase_$s"; done
echo; [ $status -eq 0 ] && echo "gpu-attention: every step passed" || echo "gpu-attention: some steps FAILED"
exit $status
