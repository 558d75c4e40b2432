#!/bin/bash
# device: the real variants cheapmask, hd and poly checked against float64, beside timing-only
# ablations (wrong results by design: never checked) and base, at the short causal rows and a
# non-causal reference row; everything compiled first, in parallel (bench/sm90_variants.py trial).
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CHECK_TIMEOUT=300 python exp.py trial cheapmask64,cheapmask128,hd128,poly64,poly128 \
  base64,nomask64,nostore64,noexp64,nosoftmax64,base128,nomask128,nostore128,noexp128,nosoftmax128 \
  "(D==64 and S==1024) or (D==64 and c and S in (512, 4096) and B<32) or (D==128 and c and S==1024)" \
  2>&1 | tee $OUT/trial5.log
