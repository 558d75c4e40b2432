#!/bin/bash
# device: desc, cheapmask, descc and descs checked against float64 (192 cases each), then timed
# beside base and SDPA cuDNN on the short causal rows, D 64 non-causal 1024 and 4096, D 128 causal 1024.
cd "$(dirname "$0")"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader
CHECK_TIMEOUT=300 python exp.py trial desc64,desc128,descc64,descc128,descs64,descs128 base64,base128,cheapmask64,cheapmask128 \
  "(D==64 and S in (512, 1024, 4096)) or (D==128 and S==1024)" 2>&1 | tee $OUT/trial6.log
