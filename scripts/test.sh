#!/usr/bin/env bash
# The test command: builds everything and runs every test (unit, fault injection, Python compile
# step, shipped-kernel compilation and manifest checks, GPU tests that skip without a GPU), then the
# unit and fault tests again under ThreadSanitizer and UBSan, then short fuzzing runs of every fuzz
# target (ASan and UBSan). Exit status 0 only if all pass.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)"
(cd build && ctest --output-on-failure -j "$(nproc)")

# The unit and fault tests (fake driver, no GPU) under ThreadSanitizer (build-tsan: data races; the
# stress test mixes launch, unload and plugin lifetimes across threads) and UBSan (build-ubsan: a
# finding aborts). Only the test binary and the libraries it links are built, instrumented. TSan
# exits non-zero after a run with any report.
for sanitizer in thread undefined; do
  dir=build-$([ $sanitizer = thread ] && echo tsan || echo ubsan)
  echo "sanitizer: $sanitizer ($dir)"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTRITONPACK_SANITIZER=$sanitizer -DTRITONPACK_CLI=OFF \
    -DTRITONPACK_BENCH=OFF -DTRITONPACK_TENSORRT=OFF -DTRITONPACK_TORCH=OFF >/dev/null
  cmake --build "$dir" -j "$(nproc)" --target tritonpack_unit_tests
  UBSAN_OPTIONS=print_stacktrace=1 "$dir/tests/tritonpack_unit_tests" --gtest_brief=1
done

# Fuzzing smoke run: every parser of untrusted bytes, FUZZ_SECONDS each (default 30).
cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang \
  -DCMAKE_CXX_COMPILER=clang++ -DTRITONPACK_FUZZ=ON -DTRITONPACK_CLI=OFF -DTRITONPACK_BENCH=OFF >/dev/null
targets=$(ls tests/fuzz/*_fuzz.cpp | xargs -n1 basename | sed 's/\.cpp$//')
# A target the configure did not make (tensorrt_*: no TensorRT headers found) is reported, not run.
known=$(cmake --build build-fuzz --target help | sed -n 's/^\([a-z_]*_fuzz\):.*/\1/p')
for t in $targets; do
  echo "$known" | grep -qx "$t" || echo "fuzz: $t skipped (not configured: its adapter was not built)"
done
targets=$(for t in $targets; do echo "$known" | grep -qx "$t" && echo "$t"; done)
cmake --build build-fuzz -j "$(nproc)" --target $targets
for t in $targets; do
  corpus=tests/fuzz/corpus/${t%_fuzz}
  work=$(mktemp -d)
  [ -d "$corpus" ] && cp -r "$corpus/." "$work/"
  echo "fuzz: $t for ${FUZZ_SECONDS:-30} s"
  "build-fuzz/tests/fuzz/$t" -max_total_time="${FUZZ_SECONDS:-30}" -print_final_stats=1 "$work" 2>&1 | grep -E "stat::number_of_executed_units|ERROR|crash" || true
  "build-fuzz/tests/fuzz/$t" -runs=0 "$work" >/dev/null 2>&1 || { echo "fuzz: $t failed"; exit 1; }
  rm -rf "$work"
done
echo "fuzz: all targets ran without a crash"
