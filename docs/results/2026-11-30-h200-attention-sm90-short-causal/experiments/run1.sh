#!/bin/bash
# device: checks of the new configs in parallel, then bench of the configs whose checks all passed
cd "$(dirname "$0")"

nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CFGS=${CFGS:-"swap64 swap128"}
CHECK_TIMEOUT=${CHECK_TIMEOUT:-300} python exp.py checkall $CFGS 2>&1 | tee $OUT/checks.log | grep -v "^$" | tail -40
ok="base64,base128"
for c in $CFGS; do
  if grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks.log; then ok="$ok,$c"; fi
done
echo "bench: $ok"
python exp.py bench "$ok" "${ROWSEL:-(c and S<=4096) or (S==1024) or (S==16384 and c)}" 2>&1 | tee $OUT/bench.log
