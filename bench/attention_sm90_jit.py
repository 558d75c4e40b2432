"""The sm_90 attention kernel (kernels/attention/attention_sm90.py) through Gluon's JIT, for work on
the kernel itself before it goes into a pack: correctness against a float64 reference (ragged
lengths, causal bottom-right, grouped-query heads, [B, S, H, D], a persistent grid of a few
programs, a negative scale), then TFLOP/s of the kernel one program a work unit and persistent (one
program an SM) against SDPA cuDNN and flash. Each group of checks runs in its own process with a
timeout, so a hang (a barrier protocol bug) costs one group, not the run.

Usage (GPU, sm_90): python bench/attention_sm90_jit.py [all|check|bench]; writes sm90_dev.json to
$OUT (default .). The shipped path is bench/attention.py --pack-sm90 (through the C++ runtime)."""
import json, math, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kernels", "attention"))  # attention_sm90


def launch(mod, q, k, v, o, lse, scale, causal, programs=None, block_n=128, bshd=False, descending=False):
    """q, k, v, o: [B, H, S, D] tensors, or [B, S, H, D] ones with bshd."""
    launcher(mod, q, k, v, o, lse, scale, causal, programs, block_n, bshd, descending)()


def launcher(mod, q, k, v, o, lse, scale, causal, programs=None, block_n=128, bshd=False, descending=False):
    """The launch as a function of no arguments, its descriptors made once (for timing).
    descending: the DESCENDING constexpr (the specs' *_desc configs); passed only when set, so
    kernels from before it (the archived experiments) still launch."""
    import triton
    from triton.experimental.gluon import language as gl
    from triton.experimental.gluon.nvidia.hopper import TensorDescriptor
    if bshd:
        B, Sq, Hq, D = q.shape
        Sk, Hkv = k.shape[1], k.shape[2]
    else:
        B, Hq, Sq, D = q.shape
        Hkv, Sk = k.shape[1], k.shape[2]
    gdt = {"torch.float16": gl.float16, "torch.bfloat16": gl.bfloat16}[str(q.dtype)]
    bm = 128
    qb = [1, bm // 2, 1, D] if bshd else [1, 1, bm // 2, D]
    kb = [1, block_n, 1, D] if bshd else [1, 1, block_n, D]
    lq = gl.NVMMASharedLayout.get_default_for(qb, gdt)
    lk = gl.NVMMASharedLayout.get_default_for(kb, gdt)
    qd = TensorDescriptor.from_tensor(q, qb, lq)
    kd = TensorDescriptor.from_tensor(k, kb, lk)
    vd = TensorDescriptor.from_tensor(v, kb, lk)
    # The kernel's work units (attention_sm90._units): tiles, or causal, pairs of tiles of a head.
    units = triton.cdiv(triton.cdiv(Sq, bm), 2 if causal else 1) * B * Hq
    grid = (units if not programs else min(programs, units), 1, 1)
    kernel = mod.attention_fwd_sm90[grid]
    extra = {"DESCENDING": True} if descending else {}
    return lambda: kernel(qd, kd, vd, o, lse, scale, B, Hq, Hkv, Sq, Sk, int(causal), HEAD_DIM=D, BLOCK_M=bm,
                          BLOCK_N=block_n, IS_CAUSAL=bool(causal), BSHD=bool(bshd), num_warps=4, **extra)


def reference(q, k, v, scale, causal):
    import torch
    B, Hq, Sq, D = q.shape
    Hkv, Sk = k.shape[1], k.shape[2]
    g = Hq // Hkv
    kk = k.double().repeat_interleave(g, dim=1)
    vv = v.double().repeat_interleave(g, dim=1)
    s = torch.matmul(q.double(), kk.transpose(-1, -2)) * scale
    if causal:
        i = torch.arange(Sq, device=q.device)[:, None]
        j = torch.arange(Sk, device=q.device)[None, :]
        s = s.masked_fill(~(j <= i + (Sk - Sq)), float("-inf"))
    m = s.amax(-1, keepdim=True)
    seen = torch.isfinite(m)
    m = torch.where(seen, m, torch.zeros_like(m))
    p = torch.exp(s - m)
    l = p.sum(-1, keepdim=True)
    o = torch.where(seen, torch.matmul(p, vv) / torch.where(seen, l, torch.ones_like(l)), torch.zeros_like(m))
    lse = torch.where(seen, m + torch.log(torch.where(seen, l, torch.ones_like(l))),
                      torch.full_like(m, float("-inf")))
    return o, lse.squeeze(-1)


def one_check(case):
    import torch
    import attention_sm90 as mod
    dt = {"fp16": torch.float16, "bf16": torch.bfloat16}[case["dtype"]]
    B, Hq, Hkv, Sq, Sk, D = case["B"], case["Hq"], case["Hkv"], case["Sq"], case["Sk"], case["D"]
    torch.manual_seed(case.get("seed", 0))
    q = torch.randn(B, Hq, Sq, D, device="cuda", dtype=dt)
    k = torch.randn(B, Hkv, Sk, D, device="cuda", dtype=dt)
    v = torch.randn(B, Hkv, Sk, D, device="cuda", dtype=dt)
    o = torch.full_like(q, float("nan"))
    lse = torch.full((B, Hq, Sq), float("nan"), device="cuda", dtype=torch.float32)
    scale = case.get("scale", 1.0 / math.sqrt(D))
    if case.get("bshd"):
        qt, kt, vt = (x.transpose(1, 2).contiguous() for x in (q, k, v))
        ot = torch.full_like(qt, float("nan"))
        launch(mod, qt, kt, vt, ot, lse, scale, case["causal"], case.get("programs"), case.get("block_n", 128), True,
               case.get("descending", False))
        o = ot.transpose(1, 2)
    else:
        launch(mod, q, k, v, o, lse, scale, case["causal"], case.get("programs"), case.get("block_n", 128),
               descending=case.get("descending", False))
    torch.cuda.synchronize()
    return compare(q, k, v, o, lse, scale, case["causal"])


def compare(q, k, v, o, lse, scale, causal):
    """A launch's O and LSE ([B, H, S, D] views) against the float64 reference: O's worst error
    relative to its scale (fp16 < 2e-3, bf16 < 1e-2), LSE's (1e-3 of its scale), no NaN, and -inf
    exactly on the rows that see no key."""
    import torch
    ro, rl = reference(q, k, v, scale, causal)
    err = ((o.double() - ro).abs().max().item()) / (ro.abs().max().item() or 1.0)
    fin = torch.isfinite(rl)
    lse_err = (lse.double()[fin] - rl[fin]).abs().max().item() if fin.any() else 0.0
    inf_ok = bool(torch.equal(torch.isinf(lse), ~fin)) and bool((lse[~fin] < 0).all())
    nan = bool(torch.isnan(o).any() or torch.isnan(lse).any())
    tol = 2e-3 if q.dtype == torch.float16 else 1e-2
    ok = (not nan) and err < tol and lse_err < 1e-3 * max(1.0, rl[fin].abs().max().item() if fin.any() else 1.0) and inf_ok
    return {"ok": ok, "err": err, "lse_err": lse_err, "nan": nan, "inf_ok": inf_ok}


def one_bench(case):
    import torch
    import triton
    import attention_sm90 as mod
    from torch.nn.attention import sdpa_kernel, SDPBackend
    dt = torch.float16 if case["dtype"] == "fp16" else torch.bfloat16
    B, H, S, D, causal = case["B"], case["H"], case["S"], case["D"], case["causal"]
    q = torch.randn(B, H, S, D, device="cuda", dtype=dt)
    k = torch.randn(B, H, S, D, device="cuda", dtype=dt)
    v = torch.randn(B, H, S, D, device="cuda", dtype=dt)
    o = torch.empty_like(q)
    lse = torch.empty((B, H, S), device="cuda", dtype=torch.float32)
    scale = 1.0 / math.sqrt(D)
    flops = 4.0 * B * H * S * S * D * (0.5 if causal else 1.0)
    res = {}
    fns = {}
    sms = torch.cuda.get_device_properties(0).multi_processor_count
    for persistent in (False, True):
        name = "ws" + ("_persist" if persistent else "")
        fns[name] = (lambda n=(sms if persistent else None): launch(mod, q, k, v, o, lse, scale, causal, n))
    def sdpa(backend):
        def f():
            with sdpa_kernel([backend]):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=bool(causal), scale=scale)
        return f
    fns["cudnn"] = sdpa(SDPBackend.CUDNN_ATTENTION)
    fns["flash"] = sdpa(SDPBackend.FLASH_ATTENTION)
    for name, f in fns.items():
        try:
            f(); torch.cuda.synchronize()
            ms = triton.testing.do_bench(f, warmup=50, rep=300)
            res[name] = flops / (ms * 1e-3) / 1e12
        except Exception as e:  # noqa
            res[name] = f"error: {type(e).__name__}: {str(e)[:200]}"
    return res


def run_case(kind, case, timeout):
    t = time.time()
    try:
        r = subprocess.run([sys.executable, __file__, kind, json.dumps(case)], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"ok": False, "error": f"timeout after {timeout}s (hang?)"}
    if r.returncode != 0:
        return {"ok": False, "error": (r.stderr or r.stdout)[-1500:]}
    out = json.loads(r.stdout.strip().splitlines()[-1])
    if isinstance(out, dict):
        out["secs"] = round(time.time() - t, 1)
    return out


def main():
    if len(sys.argv) >= 3 and sys.argv[1] in ("check", "bench"):
        case = json.loads(sys.argv[2])
        if sys.argv[1] == "check":
            print(json.dumps([one_check(c) for c in case]))
        else:
            print(json.dumps(one_bench(case)))
        return
    what = sys.argv[1] if len(sys.argv) > 1 else "all"
    results = []
    if what in ("all", "check"):
        cases = []
        base = dict(dtype="fp16", B=1, Hq=2, Hkv=2, D=128)
        # First: the simplest, one program of full blocks.
        cases.append(dict(base, Sq=128, Sk=128, causal=False))
        cases.append(dict(base, Sq=128, Sk=128, causal=True, dtype="bf16"))
        for D in (64, 128):
            for causal in (False, True):
                cases.append(dict(base, D=D, Sq=1024, Sk=1024, causal=causal))
                # Persistent: 3 programs for 16 tiles.
                cases.append(dict(base, D=D, Sq=1024, Sk=1024, causal=causal, programs=3, seed=1))
        for dt in ("fp16", "bf16"):
            for (sq, sk) in ((1, 1), (17, 17), (127, 129), (129, 127), (1000, 1000), (77, 4097), (4097, 1000),
                             (300, 20), (1, 4096)):
                for causal in (False, True):
                    cases.append(dict(base, dtype=dt, Sq=sq, Sk=sk, causal=causal, D=64 if sq % 2 else 128,
                                      programs=(5 if sk % 2 else None)))
        cases.append(dict(base, B=2, Hq=8, Hkv=2, Sq=1000, Sk=1000, causal=True, programs=7))
        cases.append(dict(base, B=2, Hq=8, Hkv=1, Sq=513, Sk=2049, causal=False, D=64))
        cases.append(dict(base, B=2, Hq=4, Hkv=4, Sq=256, Sk=256, causal=False, scale=-0.3))
        for causal in (False, True):
            cases.append(dict(base, B=2, Hq=6, Hkv=2, Sq=333, Sk=1029, causal=causal, bshd=True))
            cases.append(dict(base, B=3, Hq=4, Hkv=4, Sq=1000, Sk=777, causal=causal, bshd=True, D=64,
                              programs=11))
        # The specs' other configs (64-key blocks, the descending key order) on every causal case
        # after the first two (without IS_CAUSAL they compile to the code above).
        cases += [dict(c, block_n=bn, descending=desc) for c in cases[2:] if c["causal"]
                  for (bn, desc) in ((64, False), (128, True), (64, True))]
        fails = 0
        # The first two alone (a hang shows there first); then one process per compiled variant.
        groups = [[cases[0]], [cases[1]]]
        by_variant = {}
        for c in cases[2:]:
            by_variant.setdefault((c["dtype"], c["D"], c["causal"], c.get("bshd", False), c.get("block_n", 128),
                                   c.get("descending", False)), []).append(c)
        groups += list(by_variant.values())
        hangs = 0
        for g in groups:
            r = run_case("check", g, 150)
            rs = r if isinstance(r, list) else [r] * len(g)
            for c, x in zip(g, rs):
                results.append({"case": c, **x})
                fails += not x.get("ok")
                print(("PASS " if x.get("ok") else "FAIL ") + json.dumps(c) + " " + json.dumps(x), flush=True)
            if not isinstance(r, list) and "timeout" in str(r.get("error", "")):
                hangs += 1
                if hangs >= 2:
                    print("stopping checks after a second hang", flush=True)
                    break
        print(f"checks: {len(results) - fails} passed, {fails} failed", flush=True)
    if what in ("all", "bench"):
        rows = []
        for (B, H, S, D) in ((4, 16, 4096, 64), (4, 16, 4096, 128), (2, 16, 8192, 128), (1, 16, 16384, 128),
                             (16, 16, 1024, 128), (8, 16, 2048, 128)):
            for causal in (False, True):
                c = dict(dtype="fp16", B=B, H=H, S=S, D=D, causal=causal)
                r = run_case("bench", c, 120)
                rows.append({"case": c, **r})
                print(f"B{B} H{H} S{S} D{D} causal={int(causal)}: " + json.dumps(r), flush=True)
        results.append({"bench": rows})
    out = os.environ.get("OUT", ".")
    with open(os.path.join(out, "sm90_dev.json"), "w") as f:
        json.dump(results, f, indent=1)


if __name__ == "__main__":
    main()
