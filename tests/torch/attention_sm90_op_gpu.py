"""The attention family's sm_90 member as PyTorch ops (GPU, sm_90): attention_sm90.tpack and
attention_sm90_bshd.tpack loaded with tritonpack.load, their Q, K and V host tensor descriptors
built by the plugin core from the torch tensors. Each call is compared with float64 attention
(causal aligned bottom-right, grouped-query heads); LSE is compared too, -inf exactly where a row
sees no key. Eager and torch.compile(fullgraph=True). Refusals: a shape no variant serves (D 96)
and a base pointer TMA cannot take (an offset view) are errors naming the problem.

Usage: python tests/torch/attention_sm90_op_gpu.py <packs-folder>  (exit 0: every check passed;
77: no sm_90 GPU)."""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_op_checks import FAILURES, check, expect_error, load_ops, reference  # noqa: E402


def main() -> int:
    if not torch.cuda.is_available() or torch.cuda.get_device_capability() != (9, 0):
        print("SKIPPED: needs an sm_90 GPU")
        return 77
    packs = sys.argv[1]
    (op, op_bshd), g = load_ops(packs, "attention_sm90", "attention_sm90_bshd")
    cases = [  # B, Hq, Hkv, Sq, Sk, D, causal, dtype
        (2, 8, 2, 129, 1000, 128, 1, torch.float16),
        (1, 4, 4, 300, 127, 64, 1, torch.bfloat16),  # rows that see no key
        (3, 4, 1, 1000, 4097, 64, 0, torch.bfloat16),
        (2, 16, 16, 1024, 1024, 128, 0, torch.float16),
    ]
    compiled = torch.compile(lambda q, k, v: op(q, k, v, 0.1, 1), fullgraph=True)
    for (b, hq, hkv, sq, sk, d, causal, dtype) in cases:
        q = torch.randn((b, hq, sq, d), device="cuda", dtype=dtype, generator=g)
        k = torch.randn((b, hkv, sk, d), device="cuda", dtype=dtype, generator=g)
        v = torch.randn((b, hkv, sk, d), device="cuda", dtype=dtype, generator=g)
        scale = 1.0 / math.sqrt(d)
        ro, rl = reference(q, k, v, scale, causal)
        tag = f"B{b} Hq{hq} Hkv{hkv} Sq{sq} Sk{sk} D{d} causal={causal} {str(dtype)[6:]}"
        with torch.no_grad():
            o, lse = op(q, k, v, scale, causal)
            check(f"eager {tag}", o, lse, ro, rl, dtype)
            # [B, S, H, D] tensors, read in place through their own descriptors.
            qb, kb, vb = (x.transpose(1, 2).contiguous() for x in (q, k, v))
            ob, lseb = op_bshd(qb, kb, vb, scale, causal)
            check(f"bshd {tag}", ob.transpose(1, 2), lseb, ro, rl, dtype)
    q = torch.randn((1, 4, 200, 64), device="cuda", dtype=torch.float16, generator=g)
    k = torch.randn((1, 4, 300, 64), device="cuda", dtype=torch.float16, generator=g)
    v = torch.randn((1, 4, 300, 64), device="cuda", dtype=torch.float16, generator=g)
    with torch.no_grad():
        o, lse = compiled(q, k, v)
    ro, rl = reference(q, k, v, 0.1, 1)
    check("torch.compile(fullgraph) B1 H4 Sq200 Sk300 D64 causal", o, lse, ro, rl, torch.float16)
    with torch.no_grad():
        bad = torch.randn((1, 2, 64, 96), device="cuda", dtype=torch.float16)
        expect_error("D 96 refused", lambda: op(bad, bad, bad, 0.1, 0), "HEAD_DIM")
        # A view 2 elements into its storage: contiguous, but its base is not 16-byte aligned.
        flat = torch.randn(2 + 64 * 64, device="cuda", dtype=torch.float16)
        odd = flat[2:].view(1, 1, 64, 64)
        expect_error("misaligned base refused", lambda: op(odd, odd, odd, 0.1, 0), "align")
    print(f"{'every check passed' if not FAILURES else 'FAILED: ' + ', '.join(FAILURES)}")
    return 0 if not FAILURES else 1


if __name__ == "__main__":
    sys.exit(main())
