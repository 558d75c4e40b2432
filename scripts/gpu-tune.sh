#!/usr/bin/env bash
# Ahead-of-time tuning on a GPU machine (docs/tuning.md), every step in one run:
#   1. compile the shipped matmul and attention packs;
#   2. `tritonpack tune` both (reports in $OUT/tune_<kernel>.{json,csv}, summaries in .txt);
#   3. check that the tuned packs' blob sections are byte-identical to the untuned ones';
#   4. tuned launches verified against the host references (tuned and untuned), one under
#      compute-sanitizer;
#   5. bench/matmul_tuning.py: tuned vs first config vs Triton's JIT autotune vs cuBLAS;
#   6. attention tuned vs first config (`tritonpack run --bench`, with and without --no-tuning);
#   7. bench_tuned_launch: host cost of a tuned launch against raw cuLaunchKernel;
#   8. bench_pack_open on the attention pack.
# Usage: scripts/gpu-tune.sh [build-folder]   (a build, or .devbuild from scripts/device-carry.sh)
# Exit status: 0 if every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
B=${1:-build}
OUT=${OUT:-$PWD/gpu-tune-out}
PY=${PYTHON:-python3}
mkdir -p "$OUT" "$B/packs"
B=$(CDPATH= cd -- "$B" && pwd)  # absolute: the paths below are handed to programs run elsewhere
# A carried build (.devbuild) finds the compile step in the source tree only when told.
export TRITONPACK_PYTHON_DIR=${TRITONPACK_PYTHON_DIR:-$PWD/python}
status=0
step() { echo; echo "=== $*"; }
fail() { echo "FAILED: $*"; status=1; }

step "compile the shipped matmul and attention"
for k in matmul fmha; do
  "$B/tritonpack" compile "kernels/$k/$k.toml" -o "$B/packs/${k}_untuned.tpack" || { fail "compile $k"; exit 1; }
done

step "tune"
for k in matmul fmha; do
  # An extra launch beyond the kernel's own list: the shape the nearest-entry fallback missed.
  extra=(); [ "$k" = matmul ] && extra=(-k matmul --shape M=1000,N=4000,K=2000)
  /usr/bin/time -f "tune $k: %e s" "$B/tritonpack" tune "$B/packs/${k}_untuned.tpack" -o "$OUT/${k}_tuned.tpack" \
    "${extra[@]}" --report "$OUT/tune_$k" > "$OUT/tune_$k.txt" 2> "$OUT/tune_$k.log" || fail "tune $k"
  tail -1 "$OUT/tune_$k.log"
  cat "$OUT/tune_$k.txt"
done

step "the tuned packs' blob sections are the untuned packs', byte for byte"
for k in matmul fmha; do
  "$PY" - "$B/packs/${k}_untuned.tpack" "$OUT/${k}_tuned.tpack" <<'PY' || fail "blob sections of $k differ"
import struct, sys
def blobs(path):
    data = open(path, "rb").read()
    offset, size = struct.unpack_from("<QQ", data, 32)
    return data[offset:offset + size]
a, b = blobs(sys.argv[1]), blobs(sys.argv[2])
print(f"{sys.argv[2]}: blob section {len(b)} bytes, identical: {a == b}")
sys.exit(0 if a == b else 1)
PY
done
"$B/tritonpack" inspect "$OUT/matmul_tuned.tpack" > "$OUT/inspect_matmul_tuned.txt" 2>&1 || fail "inspect matmul_tuned"
"$B/tritonpack" inspect "$OUT/fmha_tuned.tpack" > "$OUT/inspect_fmha_tuned.txt" 2>&1 || fail "inspect fmha_tuned"
sed -n '/tuning/,$p' "$OUT/inspect_matmul_tuned.txt" | head -40

step "tuned launches are verified against the host reference (tuned, then --no-tuning)"
for args in "-a M=512 -a N=512 -a K=512" "-a M=64 -a N=1024 -a K=1024" "-a M=300 -a N=200 -a K=129" \
            "-t T=bf16 -a M=1000 -a N=384 -a K=256"; do
  for mode in "" "--no-tuning"; do
    "$B/tritonpack" run "$OUT/matmul_tuned.tpack" $args $mode --seed 3 > "$OUT/run.txt" 2>&1 || { cat "$OUT/run.txt"; fail "run matmul $args $mode"; }
    echo "matmul $args ${mode:-tuned}: $(grep -E '^variant|^verify' "$OUT/run.txt" | tr '\n' ' ')"
  done
done
for args in "-a B=1 -a H=2 -a S=300 -a D=64" "-t T=bf16 -a B=1 -a H=2 -a S=1024 -a D=128"; do
  "$B/tritonpack" run "$OUT/fmha_tuned.tpack" $args -a sm_scale=0.125 --seed 4 > "$OUT/run.txt" 2>&1 || { cat "$OUT/run.txt"; fail "run fmha $args"; }
  echo "fmha $args: $(grep -E '^variant|^verify' "$OUT/run.txt" | tr '\n' ' ')"
done
if command -v compute-sanitizer > /dev/null; then
  compute-sanitizer --tool memcheck --error-exitcode 9 "$B/tritonpack" run "$OUT/matmul_tuned.tpack" \
    -a M=200 -a N=256 -a K=96 --seed 5 > "$OUT/sanitizer_tuned.txt" 2>&1 || fail "compute-sanitizer on a tuned launch"
  tail -2 "$OUT/sanitizer_tuned.txt"
fi

step "matmul: tuned vs first config vs Triton JIT autotune vs cuBLAS"
lib=$(ls "$B"/lib/libtritonpack_runtime.so "$B"/libtritonpack_runtime.so 2>/dev/null | head -1)
"$PY" bench/matmul_tuning.py --lib "$lib" --tuned "$OUT/matmul_tuned.tpack" --out "$OUT" || fail "bench/matmul_tuning.py"

step "attention: tuned vs first config (tritonpack run --bench 20, B=4, H=16)"
echo "T,S,D,tuned_config,tuned_us,first_config,first_us" > "$OUT/fmha_tuning.csv"
for T in fp16 bf16; do
  for S in 512 2048 8192; do
    for D in 64 128; do
      row="$T,$S,$D"
      for mode in "" "--no-tuning"; do
        "$B/tritonpack" run "$OUT/fmha_tuned.tpack" -t T=$T -a B=4 -a H=16 -a S=$S -a D=$D -a sm_scale=0.125 \
          --no-verify --bench 20 --json $mode > "$OUT/run.json" 2>&1 || { cat "$OUT/run.json"; fail "fmha bench $row $mode"; continue; }
        row="$row,$("$PY" -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j["config"]+","+str(round(j["bench"]["median_us"],2)))' "$OUT/run.json")"
      done
      echo "$row" | tee -a "$OUT/fmha_tuning.csv"
    done
  done
done

step "host cost of a tuned launch (bench_tuned_launch)"
"$B/bench/bench_tuned_launch" "$OUT/matmul_tuned.tpack" | tee "$OUT/tuned_launch.txt" || fail "bench_tuned_launch"

step "pack open (the attention pack, through the C API)"
if [ -x "$B/bench/bench_pack_open" ]; then
  "$B/bench/bench_pack_open" "$OUT/fmha_tuned.tpack" 20 --json "$OUT/pack_open.json" || fail "bench_pack_open"
fi

echo
echo "gpu-tune: $([ $status -eq 0 ] && echo 'every step passed' || echo 'FAILED, see above')"
exit $status
