#!/usr/bin/env bash
# `tritonpack run` on a test pack for CTest: verifies the kernel on the GPU against its reference
# (exit 4 on a mismatch, 1 on an error). Reports itself skipped (exit 77) where it cannot run: no
# pack (the compile step was skipped: no Triton), no GPU or CUDA driver (tritonpack exits 3), or a
# GPU older than MIN_ARCH (90 for kernels compiled only for sm_90). The arguments are checked
# against the pack before the driver is needed, so a wrong -a or --pin fails here on any machine.
# Usage: run_or_skip.sh CLI MIN_ARCH PACK [tritonpack run options...]
set -u
cli=$1 min_arch=$2 pack=$3
shift 3
if [[ ! -f $pack ]]; then
  echo "SKIPPED: no pack $pack (its compile test was skipped)"
  exit 77
fi
if [[ $min_arch -gt 0 ]] && command -v nvidia-smi >/dev/null 2>&1; then
  cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader -i 0 2>/dev/null | tr -d '.[:space:]')
  if [[ -n $cap && $cap -lt $min_arch ]]; then
    echo "SKIPPED: needs sm_$min_arch or newer, GPU 0 is sm_$cap"
    exit 77
  fi
fi
"$cli" run "$pack" "$@"
rc=$?
if [[ $rc == 3 ]]; then
  echo "SKIPPED: no GPU or CUDA driver (the arguments were checked against the pack)"
  exit 77
fi
exit $rc
