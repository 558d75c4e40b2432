#!/usr/bin/env bash
# registry_demo as a test: the lean TensorRT runtime from $TRITONPACK_TENSORRT_LEAN, else
# LEAN_DEFAULT; PACK (or - for none) is served by PLUGIN_LIBRARY through TRITONPACK_TENSORRT_PACKS.
# Exit 77 (skipped) without the pack; the demo itself exits 77 without the lean runtime or a GPU.
# Usage: run_registry_demo.sh DEMO LEAN_DEFAULT PLUGIN_LIBRARY PACK|- [demo options...]
set -eu
demo=$1 lean=${TRITONPACK_TENSORRT_LEAN:-$2} library=$3 pack=$4
shift 4
if [[ $pack == - ]]; then
  exec "$demo" --lean "$lean" --plugins "$library" "$@"
fi
if [[ ! -f $pack ]]; then
  echo "SKIPPED: no pack $pack (its compile test was skipped)"
  exit 77
fi
exec "$demo" --lean "$lean" --plugins "$library" --pack "$pack" "$@"
