"""Checks shared by the attention family's PyTorch op tests (attention_sm90_op_gpu.py,
attention_decode_op_gpu.py, attention_fp8_op_gpu.py): float64 attention as the family defines it, an O/LSE comparison, and
an expected refusal, and the opening they share (two packs as ops, a freshly seeded generator).
Failures are collected in FAILURES."""

import math
import os

import torch

import tritonpack


def load_ops(packs, first, second):
    """Loads packs/<first>.tpack and packs/<second>.tpack as ops; returns their ops (the plugin
    name is tritonpack_<kernel>) and a CUDA generator with a fresh random seed (printed)."""
    names = tritonpack.load(os.path.join(packs, f"{first}.tpack"))
    names += tritonpack.load(os.path.join(packs, f"{second}.tpack"))
    seed = int.from_bytes(os.urandom(4), "little")
    print("loaded", names, "seed", seed)
    ops = (getattr(torch.ops.tritonpack, f"tritonpack_{first}"), getattr(torch.ops.tritonpack, f"tritonpack_{second}"))
    return ops, torch.Generator(device="cuda").manual_seed(seed)


def reference(q, k, v, scale, causal):
    """q [B, Hq, Sq, D], k/v [B, Hkv, Sk, D]: float64 O and LSE."""
    b, hq, sq, d = q.shape
    hkv, sk = k.shape[1], k.shape[2]
    kk = k.double().repeat_interleave(hq // hkv, dim=1)
    vv = v.double().repeat_interleave(hq // hkv, dim=1)
    s = torch.matmul(q.double(), kk.transpose(-1, -2)) * scale
    if causal:
        i = torch.arange(sq, device=q.device)[:, None]
        j = torch.arange(sk, device=q.device)[None, :]
        s = s.masked_fill(j > i + (sk - sq), float("-inf"))
    m = s.amax(-1, keepdim=True)
    seen = torch.isfinite(m)
    m0 = torch.where(seen, m, torch.zeros_like(m))
    p = torch.exp(s - m0)
    l = p.sum(-1, keepdim=True)
    o = torch.where(seen, torch.matmul(p, vv) / torch.where(seen, l, torch.ones_like(l)), torch.zeros_like(m))
    lse = torch.where(seen, m0 + torch.log(torch.where(seen, l, torch.ones_like(l))), torch.full_like(m, -math.inf))
    return o, lse.squeeze(-1)


FAILURES = []


def check(name, o, lse, ro, rl, dtype, tol=None):
    """O within tol of the output's scale (default: the issue's 2e-3 for fp16, 1e-2 for bf16), LSE
    close, -inf exactly where the reference has it."""
    if tol is None:
        tol = 2e-3 if dtype == torch.float16 else 1e-2
    err = float((o.double() - ro).abs().max() / max(float(ro.abs().max()), 1e-30))
    fin = torch.isfinite(rl)
    lse_err = float((lse.double()[fin] - rl[fin]).abs().max()) if bool(fin.any()) else 0.0
    inf_ok = bool(torch.equal(torch.isneginf(lse), ~fin))
    ok = err < tol and lse_err < 1e-3 * max(1.0, float(rl[fin].abs().max()) if bool(fin.any()) else 1.0) and inf_ok
    print(f"{'PASS' if ok else 'FAIL'} {name}: O error {err:.2e} (tolerance {tol:g}), LSE error {lse_err:.2e}, "
          f"-inf rows {int((~fin).sum())} {'match' if inf_ok else 'DIFFER'}", flush=True)
    if not ok:
        FAILURES.append(name)


def expect_error(name, fn, needle):
    try:
        fn()
        torch.cuda.synchronize()
    except RuntimeError as e:
        ok = needle in str(e)
        print(f"{'PASS' if ok else 'FAIL'} {name}: refused: {str(e).splitlines()[0][:200]}", flush=True)
        if not ok:
            FAILURES.append(name)
        return
    print(f"FAIL {name}: accepted", flush=True)
    FAILURES.append(name)
