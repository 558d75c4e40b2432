#!/bin/bash
cd "$(dirname "$0")"
export ROOT=$PWD/..
CFGS="c2s64 c2s128"
CHECK_TIMEOUT=200 python exp2.py checkall $CFGS 2>&1 | tee $OUT/checks3.log | grep -v "^$" | tail -20
python exp2.py bench "w2s64,t2s64,c2s64,base128,t2s128,c2s128" "(S<=1024 and c) or (S==4096 and not c) or (S==2048 and D==128 and c) or (S==16384 and D==128 and c)" 2>&1 | tee $OUT/bench3.log
