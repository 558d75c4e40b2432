"""Experiment: half the softmax exponentials of the sm_90 kernel on the FMA pipe (a cubic for 2^frac, FlashAttention-4's idea), D 64 only."""
import json, math, os, subprocess, sys, time
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("ROOT", os.path.join(HERE, ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, os.path.join(ROOT, "kernels", "attention"))
sys.path.insert(0, HERE)
OUT = os.environ.get("OUT", ".")

# name: (module, BLOCK_M, BLOCK_N, SKIP, CREGS, maxnreg, programs per SM)
CFGS = {  # name: (module, BLOCK_M, BLOCK_N, POLY)
    "base128": ("attention_sm90", 128, 128, None),
    "base64": ("attention_sm90", 128, 64, None),
    "poly128": ("attn_poly", 128, 128, True),
    "poly64": ("attn_poly", 128, 64, True),
}


def mk(name, q, k, v, o, lse, scale, causal, programs=None, bshd=False):
    import triton, importlib
    from triton.experimental.gluon import language as gl
    from triton.experimental.gluon.nvidia.hopper import TensorDescriptor
    modname, bm, bn, poly = CFGS[name]
    mod = importlib.import_module(modname)
    if bshd:
        B, Sq, Hq, D = q.shape; Sk, Hkv = k.shape[1], k.shape[2]
    else:
        B, Hq, Sq, D = q.shape; Hkv, Sk = k.shape[1], k.shape[2]
    gdt = {"torch.float16": gl.float16, "torch.bfloat16": gl.bfloat16}[str(q.dtype)]
    qb = [1, 64, 1, D] if bshd else [1, 1, 64, D]
    kb = [1, bn, 1, D] if bshd else [1, 1, bn, D]
    qd = TensorDescriptor.from_tensor(q, qb, gl.NVMMASharedLayout.get_default_for(qb, gdt))
    kd = TensorDescriptor.from_tensor(k, kb, gl.NVMMASharedLayout.get_default_for(kb, gdt))
    vd = TensorDescriptor.from_tensor(v, kb, gl.NVMMASharedLayout.get_default_for(kb, gdt))
    n_m = triton.cdiv(Sq, bm)
    units = ((n_m + 1) // 2 if causal else n_m) * B * Hq
    if programs is None:
        programs = torch_sms()
    grid = (min(programs, units), 1, 1)
    kern = mod.attention_fwd_sm90[grid]
    extra = {} if poly is None else {"POLY": poly}
    return lambda: kern(qd, kd, vd, o, lse, scale, B, Hq, Hkv, Sq, Sk, int(causal), HEAD_DIM=D, BLOCK_M=bm,
                        BLOCK_N=bn, IS_CAUSAL=bool(causal), BSHD=bool(bshd), num_warps=4, **extra)


def torch_sms():
    import torch
    return torch.cuda.get_device_properties(0).multi_processor_count


def checks(name):
    import torch
    from attention_sm90_jit import reference
    cases = []
    for D in (64, 128):
        if name.startswith("poly") and D == 128:
            continue
        for causal in (True, False):
            for (sq, sk) in ((1, 1), (17, 17), (127, 129), (129, 127), (1000, 1000), (77, 4097), (4097, 1000),
                             (512, 512), (300, 20), (640, 640), (1, 4096), (1500, 300), (200, 200)):
                for programs in (None, 3, 1000):
                    cases.append(dict(D=D, Sq=sq, Sk=sk, programs=programs, Hq=4, Hkv=2, B=2, causal=causal,
                                      bshd=(programs == 3)))
    fails = 0
    for n, c in enumerate(cases):
        torch.manual_seed(n)
        dt = torch.float16 if n % 2 else torch.bfloat16
        B, Hq, Hkv, Sq, Sk, D = c["B"], c["Hq"], c["Hkv"], c["Sq"], c["Sk"], c["D"]
        q = torch.randn(B, Hq, Sq, D, device="cuda", dtype=dt)
        k = torch.randn(B, Hkv, Sk, D, device="cuda", dtype=dt)
        v = torch.randn(B, Hkv, Sk, D, device="cuda", dtype=dt)
        lse = torch.full((B, Hq, Sq), float("nan"), device="cuda", dtype=torch.float32)
        scale = 1 / math.sqrt(D) * (-1 if n % 5 == 0 else 1)
        if c["bshd"]:
            qt, kt, vt = (x.transpose(1, 2).contiguous() for x in (q, k, v))
            ot = torch.full_like(qt, float("nan"))
            mk(name, qt, kt, vt, ot, lse, scale, c["causal"], c["programs"], bshd=True)()
            o = ot.transpose(1, 2)
        else:
            o = torch.full_like(q, float("nan"))
            mk(name, q, k, v, o, lse, scale, c["causal"], c["programs"])()
        torch.cuda.synchronize()
        ro, rl = reference(q, k, v, scale, c["causal"])
        err = (o.double() - ro).abs().max().item() / (ro.abs().max().item() or 1)
        fin = torch.isfinite(rl)
        le = (lse.double()[fin] - rl[fin]).abs().max().item() if fin.any() else 0
        tol = 2e-3 if dt == torch.float16 else 1e-2
        ok = err < tol and le < 2e-2 and bool(torch.equal(torch.isinf(lse), ~fin)) and not torch.isnan(o).any()
        fails += not ok
        if not ok:
            print("FAIL", name, c, str(dt), err, le, flush=True)
    print(f"checks {name}: {len(cases) - fails}/{len(cases)} passed", flush=True)


def bench(names, rows):
    import torch, triton
    from torch.nn.attention import sdpa_kernel, SDPBackend
    out = []
    for (B, H, S, D, causal) in rows:
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.float16) for _ in range(3))
        o = torch.empty_like(q); lse = torch.empty(B, H, S, device="cuda", dtype=torch.float32)
        scale = 1 / math.sqrt(D)
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        fns = {}
        for n in names:
            if n.startswith("poly") and D == 128:
                continue
            fns[n] = mk(n, q, k, v, o, lse, scale, causal)
        def cud():
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
        fns["cudnn"] = cud
        r = {"row": f"B{B} H{H} S{S} D{D} c{int(causal)}"}
        for rep in range(2):
            for n, f in fns.items():
                try:
                    f(); torch.cuda.synchronize()
                    ms = triton.testing.do_bench(f, warmup=10, rep=60)
                    r[n] = max(r.get(n, 0), round(flops / ms / 1e9, 1))
                except Exception as e:
                    r[n] = str(e)[:80]
        r.update({f"{n}/c": round(r[n] / r["cudnn"], 3) for n in fns if n != "cudnn" and isinstance(r[n], float)})
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


ROWS_ALL = ([(8, 32, 512, 64, True)] +
            [(max(1, 16384 // s), 16, s, d, c) for d in (64, 128) for c in (True, False) for s in (1024, 2048, 4096, 8192, 16384)])

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "checks":
        checks(sys.argv[2])
    elif what == "checkall":
        procs = [subprocess.Popen([sys.executable, __file__, "checks", n], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for n in sys.argv[2:]]
        for n, p in zip(sys.argv[2:], procs):
            try:
                o, _ = p.communicate(timeout=int(os.environ.get("CHECK_TIMEOUT", "200")))
            except subprocess.TimeoutExpired:
                p.kill(); o = f"checks {n}: TIMEOUT (hang?)"
            print(o[-3000:], flush=True)
    elif what == "bench":
        names = sys.argv[2].split(",")
        rows = ROWS_ALL
        if len(sys.argv) > 3:
            rows = [r for r in ROWS_ALL if eval(sys.argv[3], {}, dict(B=r[0], H=r[1], S=r[2], D=r[3], c=r[4]))]
        res = bench(names, rows)
        json.dump(res, open(os.path.join(OUT, "exp_poly_bench_%d.json" % int(time.time())), "w"), indent=1)
