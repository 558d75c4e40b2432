import os, sys, math
os.environ["TRITON_INTERPRET"] = "1"
import torch
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..", "kernels", "attention"))
from attention_decode import attention_decode
def cdiv(a, c): return -(-a // c)
torch.manual_seed(0)
for b, hq, sq, splits, br, bs, bshd in ((2, 3, 5, 3, 4, 16, False), (1, 4, 3, 20, 8, 16, True), (2, 2, 7, 2, 4, 4, False), (1, 1, 1, 37, 16, 4, True), (3, 5, 7, 11, 4, 8, False), (3, 5, 7, 11, 4, 8, True), (1, 3, 1, 1, 4, 8, False)):
    d = 64
    rows = b * hq * sq
    lp = torch.randn((splits, b, hq, sq)) * 3
    lp[torch.rand_like(lp) < 0.3] = float("-inf")
    lp[:, 0, 0, 0] = float("-inf")  # a row that sees nothing
    op = torch.randn((splits, b, hq, sq, d))
    obuf = torch.full((b * hq * sq * d + 4096,), float("nan"), dtype=torch.float16)
    lbuf = torch.full((b * hq * sq + 64,), float("nan"))
    o = obuf[:b * hq * sq * d].view((b, sq, hq, d) if bshd else (b, hq, sq, d))
    lse = lbuf[:b * hq * sq].view(b, hq, sq)
    common = dict(HEAD_DIM=d, IS_CAUSAL=False, BSHD=bshd, BLOCK_M=16, BLOCK_N=64, BLOCK_S=bs, BLOCK_R=br, USE_PDL=False)
    attention_decode[(cdiv(rows, br), 1, 1)](o, o, o, o, lse, op, lp, 0.1, b, hq, hq, sq, 100, 0, splits, PHASE=1, **common)
    m = lp.amax(0); ms = torch.where(torch.isfinite(m), m, 0)
    w = torch.exp(lp - ms); l = w.sum(0)
    ref = (op * w[..., None]).sum(0) / torch.where(l > 0, l, 1)[..., None]
    rl = torch.where(l > 0, ms + torch.log(torch.where(l > 0, l, 1)), float("-inf"))
    oo = o.transpose(1, 2) if bshd else o
    guard_ok = bool(torch.isnan(obuf[b * hq * sq * d:]).all()) and bool(torch.isnan(lbuf[b * hq * sq:]).all())
    print("rows", rows, "R", br, "S", bs, "splits", splits, "bshd", bshd, "guard_ok", guard_ok, ((oo.double() - ref).norm() / ref.norm()).item(), torch.isnan(oo).any().item(), ((lse == float("-inf")) == (rl == float("-inf"))).all().item(), torch.nan_to_num(lse - rl, posinf=0, neginf=0).abs().max().item(), oo[0, 0, 0].abs().max().item())
