#!/usr/bin/env bash
# scripts/gpu_variants.py --plan-only on packs: every variant must have a launch that runs it on
# ARCH (the GPU machine then runs each under compute-sanitizer). Exit 77 (skipped) when a pack is
# missing: the compile_* tests make them and need Triton.
set -eu
cli=$1 arch=$2
shift 2
for p in "$@"; do
  [ -f "$p" ] || { echo "SKIPPED: no pack $p (the compile_* tests make it; they need Triton)"; exit 77; }
done
exec python3 "$(dirname "$0")/../../scripts/gpu_variants.py" "$cli" - "$@" --plan-only --arch "$arch"
