#!/bin/bash
# device: checks of m0/m0swap in parallel, bench of those that passed beside base, then the fit
cd "$(dirname "$0")"

nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CFGS="m064 m0128 m0swap64 m0swap128"
CHECK_TIMEOUT=300 python exp.py checkall $CFGS 2>&1 | tee $OUT/checks2.log | grep -v "^$" | tail -40
ok="base64,base128"
for c in $CFGS; do
  if grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks2.log; then ok="$ok,$c"; fi
done
echo "bench: $ok"
python exp.py bench "$ok" "(c and S<=4096) or (S==1024)" 2>&1 | tee $OUT/bench2.log
python exp.py fit base64,base128,m064,m0128 2>&1 | tee $OUT/fit.log
