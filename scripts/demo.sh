#!/usr/bin/env bash
# The main job, end to end: build tritonpack, compile the shipped Triton kernels (vector add,
# softmax) into packs, inspect them, and launch them from C++ on a GPU when there is one.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH=/usr/local/cuda/bin:$PATH
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target tritonpack_cli
mkdir -p build/packs
for k in vector_add softmax; do
  echo "== tritonpack compile kernels/$k/$k.toml -o build/packs/$k.tpack"
  build/tritonpack compile "kernels/$k/$k.toml" -o "build/packs/$k.tpack"
done
echo "== tritonpack inspect build/packs/softmax.tpack"
build/tritonpack inspect build/packs/softmax.tpack
set +e
echo "== tritonpack run build/packs/vector_add.tpack -t T=fp16 -a n_elements=1000003 --bench 100"
build/tritonpack run build/packs/vector_add.tpack -t T=fp16 -a n_elements=1000003 --bench 100
rc=$?
if [ $rc -eq 3 ]; then
  echo "== skipped: running the kernels needs an NVIDIA GPU and driver (none here); compile and inspect ran"
  exit 0
fi
[ $rc -eq 0 ] || exit $rc
echo "== tritonpack run build/packs/softmax.tpack (bf16, scale 0.125)"
build/tritonpack run build/packs/softmax.tpack -t T=bf16 -a n_rows=4096 -a n_cols=1000 -a input_row_stride=1000 \
  -a output_row_stride=1000 -a scale=0.125 --pin BLOCK_SIZE=1024 --bench 100
