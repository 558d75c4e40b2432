#!/bin/bash
# device: checks of pf, bench beside base and m0swap (D 64 rows, and D 128 causal 1024)
cd "$(dirname "$0")"

nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CFGS="pfi64 pfi128"
CHECK_TIMEOUT=300 python exp.py checkall $CFGS 2>&1 | tee $OUT/checks4.log | grep -v "^$" | tail -40
ok="base64,m0swap64,base128"
for c in $CFGS; do
  if grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks4.log; then ok="$ok,$c"; fi
done
echo "bench: $ok"
python exp.py bench "$ok" "(D==64 and ((c and S<=4096 and B<32) or S==1024)) or (D==128 and c and S==1024)" 2>&1 | tee $OUT/bench4.log
