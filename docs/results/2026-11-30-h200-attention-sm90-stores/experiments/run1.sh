#!/bin/bash
# device: checks in parallel, then bench of the configs whose checks all passed
cd "$(dirname "$0")"
export ROOT=$PWD/..
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CFGS="w2s128 w2s64 w3 w3n64 w1n64x2 w1n64x3 w1n128x2"
CHECK_TIMEOUT=240 python exp2.py checkall $CFGS 2>&1 | tee $OUT/checks.log | grep -v "^$" | tail -40
ok="base128,base64"
for c in $CFGS; do
  if grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks.log; then ok="$ok,$c"; fi
done
echo "bench: $ok"
python exp2.py bench "$ok" ${ROWSEL:+"$ROWSEL"} 2>&1 | tee $OUT/bench.log
