"""Experiment (sm_90, Gluon JIT): variants of kernels/attention/attention_sm90.py for short causal rows.

Variants are made from the current kernel source by text replacement (see VARIANTS), written next
to this file as attn_<name>.py, checked against a float64 reference, then timed beside SDPA cuDNN.
  base:  the kernel as it is.
  m0:    the first key block of a tile without the mask when every row sees all of it.
  h2:    m0, and the softmax's exponentials in half precision (ex2.approx.f16x2). Not run: compiled
         for sm_90 it is two MUFU.EX2.F16 instructions, one a value, the same count as before.
  pfi:   m0swap, every warpgroup reads at least one key block (rows that see none: block 0 all
         masked), and at D 64 two query buffers a warpgroup and each tile's O and LSE stored after
         the next tile's first Q K^T is issued (attn_pfi.patch, by hand).
  hd:    with 128-key blocks, a tile's last block (not its first) whose second half no row of the
         warpgroup sees is computed over its first half only (attn_hd.patch).
  poly:  a quarter of the unmasked blocks' exp2s (columns 16a + 8 + 2c + 1) computed by a degree-3
         polynomial on the FMA pipe, the rest on MUFU (attn_poly.patch; the columns are split
         apart in registers, no shuffles).
  cheapmask: the mask as one comparison a score with a per-row limit.
  swap:  causal pairs: in the second tile of a unit the two consumer warpgroups swap query halves,
         so over a unit both read the same number of key blocks (before: the first warpgroup read
         one block fewer in each tile, and waited for the other).
Usage: python exp.py checkall NAME... | bench NAME,NAME... [ROWFILTER]
"""
import json, math, os, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))


def _root():
    """The repository: $ROOT, else the nearest folder above this one that has kernels/attention."""
    if os.environ.get("ROOT"):
        return os.environ["ROOT"]
    d = HERE
    while not os.path.isdir(os.path.join(d, "kernels", "attention")) and os.path.dirname(d) != d:
        d = os.path.dirname(d)
    return d


ROOT = _root()
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, HERE)
OUT = os.environ.get("OUT", ".")
SRC = os.path.join(ROOT, "kernels", "attention", "attention_sm90.py")

M0 = ("""                p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype, p_layout,
                                                 BLOCK_N, True, IS_CAUSAL)""",
      """                if n_full > 0:
                    p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype,
                                                     p_layout, BLOCK_N, False, IS_CAUSAL)
                else:
                    p_op, alpha, m_i, l_i = _softmax(s, m_i, l_i, rows, 0, seq_kv, causal_offset, qk_scale, dtype,
                                                     p_layout, BLOCK_N, True, IS_CAUSAL)""")
SWAP = [("start_m + w * HALF_M", "start_m + (w ^ k) * HALF_M"),
        ("row0 = start_m + WG * HALF_M", "row0 = start_m + (WG ^ k) * HALF_M")]
# Half-precision exp2: the exponent (at most 0) rounded to T, then two exponentials an instruction
# (ex2.approx.f16x2, or ex2.approx.ftz.bf16x2 on sm_90); P comes out in T, the row sum from it.
H2 = [("""LN2 = gl.constexpr(0.6931471805599453)
""", """LN2 = gl.constexpr(0.6931471805599453)


@gluon.jit
def _exp2_h(x):
    if x.dtype == gl.float16:
        return gl.inline_asm_elementwise("ex2.approx.f16x2 $0, $1;", "=r,r", [x], dtype=gl.float16, is_pure=True,
                                         pack=2)
    else:
        return gl.inline_asm_elementwise("ex2.approx.ftz.bf16x2 $0, $1;", "=r,r", [x], dtype=gl.bfloat16,
                                         is_pure=True, pack=2)
"""),
      ("p = gl.exp2(s - m_sub[:, None])", "p = _exp2_h((s - m_sub[:, None]).to(dtype))"),
      ("p = gl.exp2(s * qk_scale - m_new[:, None])", "p = _exp2_h((s * qk_scale - m_new[:, None]).to(dtype))"),
      ("l_i = l_i * alpha + gl.sum(p, 1)", "l_i = l_i * alpha + gl.sum(p.to(gl.float32), 1)")]
# Timing-only ablations (wrong results; bench them, do not check them): each removes one part.
def _nosoftmax(src):
    """P = S as it comes (no max, exp or sum): what is left is the MMAs, barriers and stores."""
    a = src.index("    if MASK:\n        # Masked after scaling")
    b = src.index("    return p_op, alpha, m_new, l_i")
    return src[:a] + """    p_op = gl.convert_layout(s.to(dtype), p_layout)
    alpha = gl.full_like(m_i, 1.0)
    m_new = m_i
""" + src[b:]


def _nostore(src):
    """The epilogue reduced to one fp32 store a row (acc kept alive through its row sum)."""
    a = src.index("            seen = l_i > 0.0\n")
    b = src.index("            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, lse, mask=rows < seq_q)\n")
    b += len("            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, lse, mask=rows < seq_q)\n")
    return src[:a] + """            keep = gl.convert_layout(gl.sum(acc, 1), gl.SliceLayout(1, s_layout))
            gl.store(LSE + bh_q.to(gl.int64) * seq_q + rows, m_i + l_i + keep, mask=rows < seq_q)
""" + src[b:]


# A cheaper mask: one comparison a score against a per-row limit (the last key the row sees,
# relative to the block), instead of the column index against seq_kv and against the diagonal.
CHEAPMASK = [("""        s = s * qk_scale
        cols = start_n + gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))
        keep = cols[None, :] < seq_kv
        if IS_CAUSAL:
            keep = keep & (cols[None, :] <= rows[:, None] + causal_offset)
        s = gl.where(keep, s, float("-inf"))""",
              """        s = s * qk_scale
        cols = gl.arange(0, BLOCK_N, gl.SliceLayout(0, s.type.layout))
        if IS_CAUSAL:
            limit = gl.minimum(rows + causal_offset, seq_kv - 1) - start_n
        else:
            limit = rows * 0 + (seq_kv - 1 - start_n)
        s = gl.where(cols[None, :] <= limit[:, None], s, float("-inf"))""")]


ABLATIONS = {
    "nomask": [("""                                                 BLOCK_N, True, IS_CAUSAL)""",
                """                                                 BLOCK_N, False, IS_CAUSAL)"""),
               ("dtype, p_layout, o_layout, BLOCK_N, STAGES, True, IS_CAUSAL)",
                "dtype, p_layout, o_layout, BLOCK_N, STAGES, False, IS_CAUSAL)")],
    "noexp": [("p = gl.exp2(s - m_sub[:, None])", "p = s - m_sub[:, None]"),
              ("p = gl.exp2(s * qk_scale - m_new[:, None])", "p = s * qk_scale - m_new[:, None]")],
    "nostore": [_nostore],
    "nosoftmax": [_nosoftmax],
}
VARIANTS = {
    "base": [],
    "h2": [M0] + H2,
    "m0": [M0],
    "m0swap": [M0] + SWAP,
    "pfi": "attn_pfi.patch",  # by hand (see above), a patch against the kernel at b3d2594
    "swap": SWAP,
}
VARIANTS["cheapmask"] = CHEAPMASK
VARIANTS["poly"] = "attn_poly.patch"  # a quarter of the unmasked exp2s as a polynomial on the FMA pipe
VARIANTS["hd"] = "attn_hd.patch"  # 128-key blocks: a last block whose second half is unseen, computed over its first
VARIANTS.update(ABLATIONS)
# config name: (variant, BLOCK_N)
CFGS = {f"{v}{n}": (v, n) for v in VARIANTS for n in (64, 128)}


def module(variant):
    """The variant's kernel module, written next to this file as attn_<variant>.py."""
    import importlib
    path = os.path.join(HERE, f"attn_{variant}.py")
    src = open(SRC).read()
    edits = VARIANTS[variant]
    if isinstance(edits, str):  # a patch file next to this one
        import tempfile
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["patch", "-s", "-o", os.path.join(tmp, "out.py"), SRC, os.path.join(HERE, edits)],
                           check=True)
            src = open(os.path.join(tmp, "out.py")).read()
        edits = []
    for edit in edits:
        if callable(edit):
            src = edit(src)
            continue
        old, new = edit
        assert src.count(old) == 1, (variant, old)
        src = src.replace(old, new)
    if not os.path.exists(path) or open(path).read() != src:
        tmp = f"{path}.{os.getpid()}"  # several processes may write it at once: replace, never truncate
        open(tmp, "w").write(src)
        os.replace(tmp, path)
    return importlib.import_module(f"attn_{variant}")


def mk(name, q, k, v, o, lse, scale, causal, programs=None, bshd=False):
    import triton
    from triton.experimental.gluon import language as gl
    from triton.experimental.gluon.nvidia.hopper import TensorDescriptor
    variant, bn = CFGS[name]
    mod = module(variant)
    if bshd:
        B, Sq, Hq, D = q.shape; Sk, Hkv = k.shape[1], k.shape[2]
    else:
        B, Hq, Sq, D = q.shape; Hkv, Sk = k.shape[1], k.shape[2]
    gdt = {"torch.float16": gl.float16, "torch.bfloat16": gl.bfloat16}[str(q.dtype)]
    bm = 128
    qb = [1, bm // 2, 1, D] if bshd else [1, 1, bm // 2, D]
    kb = [1, bn, 1, D] if bshd else [1, 1, bn, D]
    qd = TensorDescriptor.from_tensor(q, qb, gl.NVMMASharedLayout.get_default_for(qb, gdt))
    kd = TensorDescriptor.from_tensor(k, kb, gl.NVMMASharedLayout.get_default_for(kb, gdt))
    vd = TensorDescriptor.from_tensor(v, kb, gl.NVMMASharedLayout.get_default_for(kb, gdt))
    n_m = triton.cdiv(Sq, bm)
    units = ((n_m + 1) // 2 if causal else n_m) * B * Hq
    if programs is None:
        import torch
        programs = torch.cuda.get_device_properties(0).multi_processor_count
    grid = (min(programs, units), 1, 1)
    kern = mod.attention_fwd_sm90[grid]
    return lambda: kern(qd, kd, vd, o, lse, scale, B, Hq, Hkv, Sq, Sk, int(causal), HEAD_DIM=D, BLOCK_M=bm,
                        BLOCK_N=bn, IS_CAUSAL=bool(causal), BSHD=bool(bshd), num_warps=4)


def checks(name):
    import torch
    from attention_sm90_jit import reference
    cases = []
    for D in (64, 128):
        for causal in (True, False):
            for (sq, sk) in ((1, 1), (17, 17), (127, 129), (129, 127), (1000, 1000), (77, 4097), (4097, 1000),
                             (512, 512), (300, 20), (640, 640), (1, 4096), (1500, 300), (200, 200), (1024, 1024),
                             (383, 383), (1000, 1017)):
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


def bench(names, rows, reps=3):
    import torch, triton
    from torch.nn.attention import sdpa_kernel, SDPBackend
    out = []
    for (B, H, S, D, causal) in rows:
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.float16) for _ in range(3))
        o = torch.empty_like(q); lse = torch.empty(B, H, S, device="cuda", dtype=torch.float32)
        scale = 1 / math.sqrt(D)
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        fns = {n: mk(n, q, k, v, o, lse, scale, causal) for n in names}

        def cud():
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
        fns["cudnn"] = cud
        r = {"row": f"B{B} H{H} S{S} D{D} c{int(causal)}"}
        order = list(fns.items())
        for rep in range(reps):
            for n, f in (order if rep % 2 == 0 else order[::-1]):
                try:
                    f(); torch.cuda.synchronize()
                    ms = triton.testing.do_bench(f, warmup=20, rep=100)
                    r[n] = max(r.get(n, 0), round(flops / ms / 1e9, 1))
                except Exception as e:
                    r[n] = str(e)[:80]
        r.update({f"{n}/c": round(r[n] / r["cudnn"], 3) for n in fns if n != "cudnn" and isinstance(r[n], float)})
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


def fit(names):
    """Time per launch against the work it does: B16 H16 D64, seq_q 1024, non-causal over seq_kv
    64..4096 (tiles fixed, key blocks growing) and causal 1024, to split per-tile from per-block cost."""
    import torch, triton
    out = []
    B, H, Sq, D = 16, 16, 1024, 64
    for causal, sk in [(False, s) for s in (64, 128, 256, 512, 1024, 2048, 4096)] + [(True, 1024)]:
        q = torch.randn(B, H, Sq, D, device="cuda", dtype=torch.float16)
        k, v = (torch.randn(B, H, sk, D, device="cuda", dtype=torch.float16) for _ in range(2))
        o = torch.empty_like(q); lse = torch.empty(B, H, Sq, device="cuda", dtype=torch.float32)
        r = {"sk": sk, "causal": causal}
        for n in names:
            f = mk(n, q, k, v, o, lse, 0.125, causal)
            f(); torch.cuda.synchronize()
            r[n] = round(min(triton.testing.do_bench(f, warmup=20, rep=100) for _ in range(2)) * 1000, 2)
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


ROWS_ALL = ([(8, 32, 512, 64, True)] +
            [(max(1, 16384 // s), 16, s, d, c) for d in (64, 128) for c in (True, False)
             for s in (512, 1024, 2048, 4096, 8192, 16384)])

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "checks":
        checks(sys.argv[2])
    elif what == "checkall":
        procs = [subprocess.Popen([sys.executable, __file__, "checks", n], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True) for n in sys.argv[2:]]
        for n, p in zip(sys.argv[2:], procs):
            try:
                o, _ = p.communicate(timeout=int(os.environ.get("CHECK_TIMEOUT", "200")))
            except subprocess.TimeoutExpired:
                p.kill(); o = f"checks {n}: TIMEOUT (hang?)"
            print(o[-3000:], flush=True)
    elif what == "warm":
        # Compile (Triton's on-disk cache) every named config for the selected rows, one process a
        # config in parallel, so that a following bench spends its time timing.
        if len(sys.argv) > 3 and sys.argv[2] != "-":
            names = sys.argv[2].split(",")
            procs = [subprocess.Popen([sys.executable, __file__, "warm", "-", n] + sys.argv[3:]) for n in names]
            sys.exit(max(p.wait() for p in procs))
        import torch
        name = sys.argv[3]
        rows = [r for r in ROWS_ALL if len(sys.argv) < 5 or eval(sys.argv[4], {}, dict(B=r[0], H=r[1], S=r[2], D=r[3], c=r[4]))]
        for (B, H, S, D, causal) in rows:
            # The bench's own shapes: Triton's JIT specializes on them (divisible by 16, equal to 1).
            q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.float16) for _ in range(3))
            o = torch.empty_like(q); lse = torch.empty(B, H, S, device="cuda", dtype=torch.float32)
            mk(name, q, k, v, o, lse, 0.125, causal)()
        torch.cuda.synchronize()
    elif what == "fit":
        json.dump(fit(sys.argv[2].split(",")), open(os.path.join(OUT, "fit.json"), "w"), indent=1)
    elif what == "bench":
        names = sys.argv[2].split(",")
        rows = ROWS_ALL
        if len(sys.argv) > 3:
            rows = [r for r in ROWS_ALL if eval(sys.argv[3], {}, dict(B=r[0], H=r[1], S=r[2], D=r[3], c=r[4]))]
        res = bench(names, rows)
        json.dump(res, open(os.path.join(OUT, "bench_%d.json" % int(time.time())), "w"), indent=1)
