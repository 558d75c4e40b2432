"""Phase 1 rows-per-program sweep via Triton JIT (session experiment)."""
import math, sys, os, json
import torch
from triton.testing import do_bench
# (run from exp_pdl/ beside a copy of the kernel as rows/attention_decode.py: that copy is now
# kernels/attention/attention_decode.py, minus its USE_PDL docstring)
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "rows"))
from attention_decode import attention_decode
out = []
def cdiv(a, c): return -(-a // c)
for b, hq, hkv, sq, skv, causal in ((8, 32, 8, 16, 1024, 0), (8, 32, 8, 16, 4096, 0), (8, 32, 8, 1, 1024, 0), (8, 32, 8, 1, 32768, 0),
                                    (1, 8, 1, 1, 32768, 1), (2, 6, 3, 40, 17, 1), (3, 5, 1, 7, 3000, 1)):
    d = 128
    splits = max(1, min(2 * 132 // (b * hkv), cdiv(skv, 256)))
    q = torch.randn((b, hq, sq, d), device="cuda", dtype=torch.float16)
    k = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16)
    v = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16)
    o = torch.empty_like(q); lse = torch.empty((b, hq, sq), device="cuda", dtype=torch.float32)
    scale = 1 / math.sqrt(d)
    kr = k.double().repeat_interleave(hq // hkv, 1); vr = v.double().repeat_interleave(hq // hkv, 1)
    sc = (q.double() @ kr.transpose(-1, -2)) * scale
    if causal:
        i = torch.arange(sq, device="cuda")[:, None]; j = torch.arange(skv, device="cuda")[None, :]
        sc = sc.masked_fill(j > i + (skv - sq), float("-inf"))
    mx = sc.amax(-1, keepdim=True); seen = torch.isfinite(mx)
    p = torch.where(seen, torch.exp(sc - torch.where(seen, mx, 0)), 0)
    l = p.sum(-1, keepdim=True)
    ref = torch.where(l > 0, (p @ vr) / torch.where(l > 0, l, 1), 0)
    rlse = torch.where(l[..., 0] > 0, mx[..., 0] + torch.log(torch.where(l[..., 0] > 0, l[..., 0], 1)), float("-inf"))
    bm = 16 if hq // hkv * sq <= 16 else 64
    op = torch.empty((splits, b, hq, sq, d), device="cuda", dtype=torch.float32)
    lp = torch.empty((splits, b, hq, sq), device="cuda", dtype=torch.float32)
    rows = b * hq * sq
    print(f"B{b} H{hq}/{hkv} sq{sq} skv{skv} causal{causal} splits{splits}", flush=True)
    for br, bs in ((1, 16), (2, 16), (4, 16), (8, 16), (4, 8), (8, 8), (16, 4), (4, 4)):
        common = dict(HEAD_DIM=d, IS_CAUSAL=bool(causal), BSHD=False, BLOCK_M=bm, BLOCK_N=64, BLOCK_S=bs, BLOCK_R=br, USE_PDL=False, num_warps=4, num_stages=3)
        def p0():
            attention_decode[(splits, b * hkv, 1)](q, k, v, o, lse, op, lp, scale, b, hq, hkv, sq, skv, causal, splits, PHASE=0, **common)
        def p1():
            attention_decode[(cdiv(rows, br), 1, 1)](q, k, v, o, lse, op, lp, scale, b, hq, hkv, sq, skv, causal, splits, PHASE=1, **common)
        def both():
            p0(); p1()
        o.fill_(float("nan")); lse.fill_(float("nan")); both(); torch.cuda.synchronize()
        err = ((o.double() - ref).norm() / ref.norm()).item()
        lerr = (torch.nan_to_num(lse.double() - rlse, nan=1e9, posinf=0, neginf=0)).abs().max().item()
        linf_ok = bool(((lse == float("-inf")) == (rlse == float("-inf"))).all())
        t1 = do_bench(p1, warmup=25, rep=100, return_mode="median")
        tb = do_bench(both, warmup=25, rep=200, return_mode="median")
        r = dict(b=b, hq=hq, hkv=hkv, sq=sq, skv=skv, causal=causal, br=br, bs=bs, p1=t1 * 1e3, both=tb * 1e3, err=err, lse_err=lerr, inf_ok=linf_ok)
        out.append(r)
        print(f"  R{br} S{bs}: p1 {t1*1e3:.1f} both {tb*1e3:.1f} err {err:.1e} lse {lerr:.1e} inf_ok {linf_ok}", flush=True)
json.dump(out, open(os.path.join(os.environ.get("OUT", "."), "sweep2.json"), "w"), indent=1)
