#!/bin/bash
# device: mix checked against float64 (192 cases a config), then head, ship and mix timed beside
# SDPA cuDNN on the causal rows (every D 64 row and the seed shape; D 128 at 1024, 4096, 16384).
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CHECK_TIMEOUT=200 python exp.py trial mix64,mix128 head64,head128,ship64,ship128 \
  "c and (D==64 or S in (1024, 4096, 16384))" 2>&1 | tee $OUT/trial7.log
