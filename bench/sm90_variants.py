"""A harness for experiments on variants of the sm_90 attention kernel through Gluon's JIT (the
variants themselves live with their results, e.g. docs/results/*/experiments/exp.py). An
experiment gives a function mk(name, q, k, v, o, lse, scale, causal, programs=None, bshd=False)
that returns the named variant's launch as a function of no arguments; this module checks it
against a float64 reference, times it beside SDPA cuDNN, and runs the command line:

    python exp.py checkall NAME...          # each NAME's checks in its own process, in parallel
    python exp.py warm NAME,NAME... [ROWS]  # compile each for the rows, one process a name
    python exp.py bench NAME,NAME... [ROWS] # TFLOP/s beside cuDNN; writes bench_<time>.json to $OUT
    python exp.py fit NAME,NAME...          # time against key count: per-tile and per-block cost
    python exp.py trial CHECKED BASE [ROWS] # the CHECKED names' checks and every name's compile in
                                            # parallel, then bench of BASE and the CHECKED that passed

ROWS is a Python expression over B, H, S, D and c (causal) that selects rows of ROWS_ALL."""
import json, math, os, re, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # attention_sm90_jit

# (B, H, S, D, causal): the seed's shape, then the benchmark's rows.
ROWS_ALL = ([(8, 32, 512, 64, True)] +
            [(max(1, 16384 // s), 16, s, d, c) for d in (64, 128) for c in (True, False)
             for s in (512, 1024, 2048, 4096, 8192, 16384)])


def rows(selection=None):
    """The rows of ROWS_ALL that the expression selects (all without one)."""
    if not selection:
        return list(ROWS_ALL)
    return [r for r in ROWS_ALL if eval(selection, {}, dict(B=r[0], H=r[1], S=r[2], D=r[3], c=r[4]))]


def launch_maker(module, cfgs):
    """An experiment's mk for configs {name: (variant, BLOCK_N)}: the launch
    (attention_sm90_jit.launcher) of the kernel module module(variant), one program an SM by
    default."""
    def mk(name, q, k, v, o, lse, scale, causal, programs=None, bshd=False):
        import torch
        from attention_sm90_jit import launcher
        variant, bn = cfgs[name]
        if programs is None:
            programs = torch.cuda.get_device_properties(0).multi_processor_count
        return launcher(module(variant), q, k, v, o, lse, scale, causal, programs, bn, bshd)
    return mk


def variant_module(folder, name, src):
    """src (a variant of the kernel's source) as the module attn_<name> in folder, written only
    when it changed (replaced, never truncated: several processes may write it at once)."""
    import importlib
    path = os.path.join(folder, f"attn_{name}.py")
    if not os.path.exists(path) or open(path).read() != src:
        tmp = f"{path}.{os.getpid()}"
        open(tmp, "w").write(src)
        os.replace(tmp, path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return importlib.import_module(f"attn_{name}")


def patched(src_path, patch_path):
    """The text of src_path with a unified diff applied (patch -o, the file itself untouched)."""
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["patch", "-s", "-o", os.path.join(tmp, "out.py"), src_path, patch_path], check=True)
        return open(os.path.join(tmp, "out.py")).read()


def edited(src, edits):
    """src with each edit applied: a function of the text, or an (old, new) pair whose old text
    occurs exactly once."""
    for edit in edits:
        if callable(edit):
            src = edit(src)
        else:
            assert src.count(edit[0]) == 1, edit[0]
            src = src.replace(*edit)
    return src


def check_cases():
    """Both head sizes, causal or not, ragged and unequal lengths (rows that see no key), the
    default grid, 3 programs ([B, S, H, D]) or 1000, grouped-query heads."""
    cases = []
    for D in (64, 128):
        for causal in (True, False):
            for (sq, sk) in ((1, 1), (17, 17), (127, 129), (129, 127), (1000, 1000), (77, 4097), (4097, 1000),
                             (512, 512), (300, 20), (640, 640), (1, 4096), (1500, 300), (200, 200), (1024, 1024),
                             (383, 383), (1000, 1017)):
                for programs in (None, 3, 1000):
                    cases.append(dict(D=D, Sq=sq, Sk=sk, programs=programs, Hq=4, Hkv=2, B=2, causal=causal,
                                      bshd=(programs == 3)))
    return cases


def checks(mk, name):
    """Every case against the float64 reference (fp16 and bf16 alternating, a negative scale every
    fifth case, outputs poisoned with NaN); prints the failures and a count."""
    import torch
    from attention_sm90_jit import compare
    cases = check_cases()
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
        r = compare(q, k, v, o, lse, scale, c["causal"])
        fails += not r["ok"]
        if not r["ok"]:
            print("FAIL", name, c, str(dt), r, flush=True)
    print(f"checks {name}: {len(cases) - fails}/{len(cases)} passed", flush=True)


def bench(mk, names, selected, reps=3):
    """TFLOP/s of each name and of SDPA cuDNN on each row: the best of `reps` samples, the order of
    the methods reversed every other sample."""
    import torch, triton
    from torch.nn.attention import sdpa_kernel, SDPBackend
    out = []
    for (B, H, S, D, causal) in selected:
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.float16) for _ in range(3))
        o = torch.empty_like(q)
        lse = torch.empty(B, H, S, device="cuda", dtype=torch.float32)
        scale = 1 / math.sqrt(D)
        flops = 4.0 * B * H * S * S * D / (2 if causal else 1)
        fns = {n: mk(n, q, k, v, o, lse, scale, causal) for n in names}

        def cudnn():
            with sdpa_kernel([SDPBackend.CUDNN_ATTENTION]):
                torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale)
        fns["cudnn"] = cudnn
        r = {"row": f"B{B} H{H} S{S} D{D} c{int(causal)}"}
        order = list(fns.items())
        for rep in range(reps):
            for n, f in (order if rep % 2 == 0 else order[::-1]):
                try:
                    f()
                    torch.cuda.synchronize()
                    ms = triton.testing.do_bench(f, warmup=20, rep=100)
                    r[n] = max(r.get(n, 0), round(flops / ms / 1e9, 1))
                except Exception as e:
                    r[n] = str(e)[:80]
        r.update({f"{n}/c": round(r[n] / r["cudnn"], 3) for n in fns if n != "cudnn" and isinstance(r[n], float)})
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


def fit(mk, names):
    """Time per launch against the work it does: B16 H16 D64, seq_q 1024, non-causal over seq_kv
    64..4096 (tiles fixed, key blocks growing) and causal 1024, to split per-tile from per-block cost."""
    import torch, triton
    out = []
    B, H, Sq, D = 16, 16, 1024, 64
    for causal, sk in [(False, s) for s in (64, 128, 256, 512, 1024, 2048, 4096)] + [(True, 1024)]:
        q = torch.randn(B, H, Sq, D, device="cuda", dtype=torch.float16)
        k, v = (torch.randn(B, H, sk, D, device="cuda", dtype=torch.float16) for _ in range(2))
        o = torch.empty_like(q)
        lse = torch.empty(B, H, Sq, device="cuda", dtype=torch.float32)
        r = {"sk": sk, "causal": causal}
        for n in names:
            f = mk(n, q, k, v, o, lse, 0.125, causal)
            f()
            torch.cuda.synchronize()
            r[n] = round(min(triton.testing.do_bench(f, warmup=20, rep=100) for _ in range(2)) * 1000, 2)
        print(json.dumps(r), flush=True)
        out.append(r)
    return out


def warm(mk, name, selected):
    """Compiles (Triton's on-disk cache) one name for the rows, at the bench's own shapes: Triton's
    JIT specializes on them (divisible by 16, equal to 1)."""
    import torch
    for (B, H, S, D, causal) in selected:
        q, k, v = (torch.randn(B, H, S, D, device="cuda", dtype=torch.float16) for _ in range(3))
        o = torch.empty_like(q)
        lse = torch.empty(B, H, S, device="cuda", dtype=torch.float32)
        mk(name, q, k, v, o, lse, 0.125, causal)()
    torch.cuda.synchronize()


def _start_checks(script, names):
    return [subprocess.Popen([sys.executable, script, "checks", n], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True) for n in names]


def _finish_checks(names, procs):
    """Prints each name's check output (its tail); returns the names whose every check passed."""
    passed = []
    for n, p in zip(names, procs):
        try:
            o, _ = p.communicate(timeout=int(os.environ.get("CHECK_TIMEOUT", "200")))
        except subprocess.TimeoutExpired:
            p.kill()
            o = f"checks {n}: TIMEOUT (hang?)"
        print(o[-3000:], flush=True)
        m = re.search(rf"^checks {re.escape(n)}: (\d+)/(\d+) passed$", o, re.M)
        if m and m.group(1) == m.group(2):
            passed.append(n)
    return passed


def _start_warm(script, names, selection):
    return [subprocess.Popen([sys.executable, script, "warm", "-", n] + ([selection] if selection else []))
            for n in names]


def main(mk, script, argv=None):
    """The command line above; `script` is the experiment's file (run again in child processes)."""
    argv = sys.argv[1:] if argv is None else argv
    out_dir = os.environ.get("OUT", ".")
    what = argv[0]
    if what == "checks":
        checks(mk, argv[1])
    elif what == "checkall":
        _finish_checks(argv[1:], _start_checks(script, argv[1:]))
    elif what == "warm":
        if argv[1] != "-":  # one process a name, in parallel
            sys.exit(max(p.wait() for p in _start_warm(script, argv[1].split(","), argv[2] if len(argv) > 2 else None)))
        warm(mk, argv[2], rows(argv[3] if len(argv) > 3 else None))
    elif what == "trial":
        checked, base = argv[1].split(","), argv[2].split(",")
        selection = argv[3] if len(argv) > 3 else None
        checking = _start_checks(script, checked)
        warming = _start_warm(script, base + checked, selection)
        passed = _finish_checks(checked, checking)
        for p in warming:
            p.wait()
        names = base + passed
        print("bench:", ",".join(names), flush=True)
        res = bench(mk, names, rows(selection))
        json.dump(res, open(os.path.join(out_dir, "bench_%d.json" % int(time.time())), "w"), indent=1)
    elif what == "fit":
        json.dump(fit(mk, argv[1].split(",")), open(os.path.join(out_dir, "fit.json"), "w"), indent=1)
    elif what == "bench":
        res = bench(mk, argv[1].split(","), rows(argv[2] if len(argv) > 2 else None))
        json.dump(res, open(os.path.join(out_dir, "bench_%d.json" % int(time.time())), "w"), indent=1)
    else:
        sys.exit(f"unknown command {what!r}: checks, checkall, warm, bench, fit or trial")
