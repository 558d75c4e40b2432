#!/bin/bash
cd "$(dirname "$0")"
export ROOT=$PWD/..
CFGS="t2s64 t2s64st t2s128 t3"
CHECK_TIMEOUT=240 python exp2.py checkall $CFGS 2>&1 | tee $OUT/checks2.log | grep -v "^$" | tail -20
ok="base128,base64,w2s64,w3"
for c in $CFGS; do
  if grep -qE "^checks $c: ([0-9]+)/\1 passed" $OUT/checks2.log; then ok="$ok,$c"; fi
done
echo "bench: $ok"
python exp2.py bench "$ok" "(S<=2048 and c) or (S==4096) or (S==16384 and D==128 and c) or (S==16384 and D==64 and not c)" 2>&1 | tee $OUT/bench2.log
cat > /tmp/rc.py <<'PY'
import sys, math, torch
sys.argv=[sys.argv[0]]
import exp2
torch.manual_seed(0)
for causal in (True, False):
    q, k, v = (torch.randn(1, 2, 700, 64, device="cuda", dtype=torch.float16) for _ in range(3))
    o = torch.full_like(q, float("nan")); lse = torch.empty(1, 2, 700, device="cuda", dtype=torch.float32)
    exp2.mk("t2s64", q, k, v, o, lse, 0.125, causal, programs=2)()
    torch.cuda.synchronize()
    ro, rl = exp2.reference(q, k, v, 0.125, causal) if hasattr(exp2, "reference") else (None, None)
print("racecheck launches done", flush=True)
PY
cp /tmp/rc.py ./rc.py
timeout 150 compute-sanitizer --tool racecheck --racecheck-report hazard python rc.py 2>&1 | tail -15 | tee $OUT/racecheck.log
