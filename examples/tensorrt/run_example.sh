#!/usr/bin/env bash
# The example as a test: build an engine with the generic plugin library serving PACK, then run it
# at two shapes and check the results. Exit 77 (skipped) without the pack or a GPU.
# Usage: run_example.sh EXAMPLE PLUGIN_LIBRARY PACK WORKDIR
set -eu
example=$1 library=$2 pack=$3 work=$4
if [[ ! -f $pack ]]; then
  echo "SKIPPED: no pack $pack (its compile test was skipped)"
  exit 77
fi
export TRITONPACK_TENSORRT_PACKS=$pack
"$example" build --plugins "$library" --engine "$work/fmha.engine" --heads 4 --head-size 64 --max-batch 4 --max-seq 512
"$example" run --plugins "$library" --engine "$work/fmha.engine" --batch 2 --seq 200
"$example" run --plugins "$library" --engine "$work/fmha.engine" --batch 3 --seq 512 --benchmark
