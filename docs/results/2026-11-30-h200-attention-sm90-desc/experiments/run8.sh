#!/bin/bash
# device (ran in the eighth session: ../../2026-11-30-h200-attention-sm90-pconv/run8): pconv, pconvdesc and desc (the shipped kernel's DESCENDING
# path: not yet on a GPU, only the candidate it was written from) checked against float64 (192
# cases a config), then timed beside the kernel as it is (asc, desc) and SDPA cuDNN on every causal row
# and the non-causal rows at 1024, 4096 and 16384 keys.
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CHECK_TIMEOUT=200 python exp8.py trial desc64,desc128,pconv64,pconv128,pconvdesc64,pconvdesc128 asc64,asc128 \
  "c or S in (1024, 4096, 16384)" 2>&1 | tee $OUT/trial8.log
