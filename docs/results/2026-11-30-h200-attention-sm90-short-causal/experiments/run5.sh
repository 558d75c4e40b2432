#!/bin/bash
# device: (1) checks of cheapmask, hd and poly (real variants); (2) timing-only ablations (wrong results by
# design: not checked) beside base and cheapmask at the short causal rows and a non-causal
# reference row. Everything is compiled first, one process a config in parallel.
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CHECK_TIMEOUT=300 python exp.py checkall cheapmask64 cheapmask128 hd128 poly64 poly128 2>&1 | tee $OUT/checks5.log | grep -v "^$" | tail -10 &
M="base64,nomask64,nostore64,noexp64,nosoftmax64,base128,nomask128,nostore128,noexp128,nosoftmax128"
SEL="(D==64 and S==1024) or (D==64 and c and S in (512, 4096) and B<32) or (D==128 and c and S==1024)"
time python exp.py warm "$M,cheapmask64,cheapmask128,hd128,poly64,poly128" "$SEL" 2>&1 | tail -5
wait
for c in cheapmask64 cheapmask128 hd128 poly64 poly128; do
  grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks5.log && M="$M,$c"
done
echo "bench: $M"
python exp.py bench "$M" "$SEL" 2>&1 | tee $OUT/bench5.log
