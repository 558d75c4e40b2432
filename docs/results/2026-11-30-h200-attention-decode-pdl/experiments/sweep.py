"""q16 decode sweep via Triton JIT (session experiment): phase times, num_warps/stages/BLOCK_N/splits."""
import math, sys, os, json, statistics
import torch, triton
from triton.testing import do_bench
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "kernels", "attention"))
from attention_decode import attention_decode
import torch.nn.functional as F
from torch.nn.attention import sdpa_kernel, SDPBackend
out = []
for sq, skv in ((16, 1024), (16, 4096), (1, 1024)):
    b, hq, hkv, d = 8, 32, 8, 128
    q = torch.randn((b, hq, sq, d), device="cuda", dtype=torch.float16)
    k = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16)
    v = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16)
    o = torch.empty_like(q); lse = torch.empty((b, hq, sq), device="cuda", dtype=torch.float32)
    scale = 1 / math.sqrt(d)
    with sdpa_kernel(SDPBackend.CUDNN_ATTENTION):
        kr = k.repeat_interleave(4, 1); vr = v.repeat_interleave(4, 1)
        ref = F.scaled_dot_product_attention(q, kr, vr, scale=scale)
        tc = do_bench(lambda: F.scaled_dot_product_attention(q, kr, vr, scale=scale), warmup=25, rep=200, return_mode="median")
    bm = 16 if hq // hkv * sq <= 16 else 64
    print(f"sq{sq} skv{skv}: cudnn(repeated kv) {tc*1e3:.1f} us", flush=True)
    for splits, nw, ns, bn in ((4, 4, 3, 64), (2, 4, 3, 64), (8, 4, 3, 64), (16, 4, 3, 64), (4, 8, 3, 64), (8, 8, 3, 64),
                               (4, 4, 2, 64), (4, 4, 4, 64), (4, 4, 3, 32), (8, 4, 3, 32), (4, 8, 2, 128), (4, 4, 2, 128)):
                if True:
                    op = torch.empty((splits, b, hq, sq, d), device="cuda", dtype=torch.float32)
                    lp = torch.empty((splits, b, hq, sq), device="cuda", dtype=torch.float32)
                    common = dict(HEAD_DIM=d, IS_CAUSAL=False, BSHD=False, BLOCK_M=bm, BLOCK_N=bn, BLOCK_S=16, USE_PDL=False, num_warps=nw, num_stages=ns)
                    def p0():
                        attention_decode[(splits, b * hkv, 1)](q, k, v, o, lse, op, lp, scale, b, hq, hkv, sq, skv, 0, splits, PHASE=0, **common)
                    def p1():
                        attention_decode[(b * hq * sq, 1, 1)](q, k, v, o, lse, op, lp, scale, b, hq, hkv, sq, skv, 0, splits, PHASE=1, **common)
                    def both():
                        p0(); p1()
                    try:
                        o.fill_(float("nan")); both(); torch.cuda.synchronize()
                        err = ((o.float() - ref.float()).norm() / ref.float().norm()).item()
                        t0 = do_bench(p0, warmup=25, rep=100, return_mode="median")
                        t1 = do_bench(p1, warmup=25, rep=100, return_mode="median")
                        tb = do_bench(both, warmup=25, rep=200, return_mode="median")
                    except Exception as e:
                        print("fail", splits, nw, ns, bn, str(e)[:80]); continue
                    r = dict(sq=sq, skv=skv, splits=splits, nw=nw, ns=ns, bn=bn, p0=t0*1e3, p1=t1*1e3, both=tb*1e3, cudnn=tc*1e3, err=err)
                    out.append(r)
                    print(f"  splits{splits} w{nw} s{ns} n{bn}: p0 {t0*1e3:.1f} p1 {t1*1e3:.1f} both {tb*1e3:.1f} err {err:.1e}", flush=True)
json.dump(out, open(os.path.join(os.environ.get("OUT", "."), "sweep.json"), "w"), indent=1)
