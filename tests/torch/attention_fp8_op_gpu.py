"""The attention family's FP8 members as PyTorch ops (GPU, sm_90): attention_fp8.tpack and
attention_fp8_vt.tpack loaded with tritonpack.load. Their output dtype TO is no input's, so the op
takes it as the dtype field `ScalarType? TO=None` (docs/plugin.md, "Dtype fields"): each call's O
must come back in the dtype asked for (fp16 when None) and match float64 attention of the FP8
inputs within one rounding of P to the inputs' FP8 type (2^-4 for e4m3, 2^-3 for e5m2) plus the
output's rounding, as `tritonpack run` checks it. V^T ([B, HKV, D, SKV]) for the _vt op. Eager and
torch.compile(fullgraph=True); a TO the pack was not compiled for (fp32) is refused by name.

Usage: python tests/torch/attention_fp8_op_gpu.py <packs-folder>  (exit 0: every check passed;
77: no sm_90 GPU)."""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_op_checks import FAILURES, check, expect_error, load_ops, reference  # noqa: E402

FP8_ROUNDING = {torch.float8_e4m3fn: 2.0 ** -4, torch.float8_e5m2: 2.0 ** -3}
OUT_ROUNDING = {torch.float16: 2e-3, torch.bfloat16: 1.6e-2}  # the run harness's (references.cpp)


def main() -> int:
    if not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0):
        print("SKIPPED: needs an sm_90 GPU")
        return 77
    packs = sys.argv[1]
    (op, op_vt), g = load_ops(packs, "attention_fp8", "attention_fp8_vt")
    cases = [  # B, Hq, Hkv, Sq, Sk, D, causal, input dtype, TO (None: fp16)
        (2, 8, 2, 129, 1024, 128, 1, torch.float8_e4m3fn, None),
        (1, 4, 4, 300, 128, 64, 1, torch.float8_e5m2, torch.bfloat16),  # rows that see no key
        (1, 16, 16, 1024, 1024, 64, 0, torch.float8_e4m3fn, torch.bfloat16),
        (2, 4, 1, 77, 4096, 128, 0, torch.float8_e4m3fn, torch.float16),
    ]
    for (b, hq, hkv, sq, sk, d, causal, t, to) in cases:
        q, k, v = (torch.randn(shape, device="cuda", generator=g).to(t)
                   for shape in ((b, hq, sq, d), (b, hkv, sk, d), (b, hkv, sk, d)))
        scale = 1.0 / math.sqrt(d)
        ro, rl = reference(q.float(), k.float(), v.float(), scale, causal)
        out_dtype = to or torch.float16
        tol = OUT_ROUNDING[out_dtype] + FP8_ROUNDING[t]
        tag = f"B{b} Hq{hq} Hkv{hkv} Sq{sq} Sk{sk} D{d} causal={causal} {str(t)[6:]} TO={'None (fp16)' if to is None else str(to)[6:]}"
        vt = v.transpose(-1, -2).contiguous()
        with torch.no_grad():
            for name, fn in (("fp8", lambda: op(q, k, v, scale, causal, to)),
                             ("fp8_vt", lambda: op_vt(q, k, vt, scale, causal, TO=to))):
                o, lse = fn()
                if o.dtype != out_dtype:
                    print(f"FAIL {name} {tag}: O is {o.dtype}, asked for {out_dtype}", flush=True)
                    FAILURES.append(f"{name} {tag} dtype")
                    continue
                check(f"{name} {tag}", o, lse, ro, rl, out_dtype, tol=tol)
    # Traced: the dtype field reaches the compiled graph's output.
    q, k = (torch.randn((1, 4, 200, 64), device="cuda", generator=g).to(torch.float8_e4m3fn) for _ in range(2))
    v = torch.randn((1, 4, 200, 64), device="cuda", generator=g).to(torch.float8_e4m3fn)
    compiled = torch.compile(lambda q, k, vt: op_vt(q, k, vt, 0.1, 1, TO=torch.bfloat16), fullgraph=True)
    with torch.no_grad():
        o, lse = compiled(q, k, v.transpose(-1, -2).contiguous())
    ro, rl = reference(q.float(), k.float(), v.float(), 0.1, 1)
    if o.dtype != torch.bfloat16:
        FAILURES.append("torch.compile dtype")
    check("torch.compile(fullgraph) fp8_vt TO=bf16", o, lse, ro, rl, torch.bfloat16,
          tol=OUT_ROUNDING[torch.bfloat16] + FP8_ROUNDING[torch.float8_e4m3fn])
    with torch.no_grad():
        expect_error("TO=fp32 refused", lambda: op(q, k, v, 0.1, 0, torch.float32), "dtype field 'TO'")
    print(f"{'every check passed' if not FAILURES else 'FAILED: ' + ', '.join(FAILURES)}")
    return 0 if not FAILURES else 1


if __name__ == "__main__":
    sys.exit(main())
