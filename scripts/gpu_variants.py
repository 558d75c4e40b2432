#!/usr/bin/env python3
"""Every variant of the attention packs, launched on this GPU: each one checked against the float64
reference under compute-sanitizer memcheck, and the warp-specialized ones under racecheck too.

For each variant the script looks for a launch that the runtime itself chooses that variant for
(`tritonpack run --explain`: the variant's types, head size, causal flag and config, and lengths
that are multiples of 16 or not as its specialization says), and runs it. A variant that no
launch selects on this GPU (the sm_80 variants of an sm_80 + sm_90 pack, which the sm_90 ones
outrank) is forced with `--variant` on a launch it says it could run. It then runs from its PTX
(the driver compiles it for this GPU); a forced step of a kernel in steps (decode) runs alone,
so it gets memcheck without the reference check (the output says so). A variant that no launch
can run at all is a failure.

Usage: python scripts/gpu_variants.py TRITONPACK OUT PACK... [--jobs N] [--plan-only] [--arch sm_90]
  PACK: a .tpack path; OUT: a folder for variants_<kernel>.json (one entry a launch: its options,
  the variants it covers, how they were reached, the outcome) and the logs of failed runs.
  --plan-only: find the launches and print them (no GPU needed, with --arch; OUT is not written);
  it fails if a variant has none, or if a variant of that arch is only reached by forcing it.
  Exit status 0 if every variant passed (--plan-only: has its launch).
"""
import argparse
import concurrent.futures
import itertools
import json
import os
import re
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Warp-specialized kernels (racecheck): kernel name prefix -> (source, function).
WARP_SPECIALIZED = {"attention_sm90": ("kernels/attention/attention_sm90.py", "attention_fwd_sm90")}


def candidates(kernel, v):
    """Launches (types, scalar arguments) for variant v of the kernel, most likely first: its
    types, head size and causal flag, then lengths that are multiples of 16 where v is
    specialized for that and not where it is not (the runtime prefers a specialized variant)."""
    c = v["constexprs"]
    div = {a["name"]: a["divisibility"] for a in v["args"]}
    types = [f"{k}={t}" for k, t in sorted(v["bindings"].items())]
    if kernel == "fmha":
        for s in ([256] if div.get("seq_len", 1) >= 16 else [129, 300]):
            yield types, {"batch_size": 2, "num_heads": 3, "seq_len": s, "D": c["BLOCK_DMODEL"], "sm_scale": 0.125}
        return
    if not kernel.startswith("attention"):
        raise SystemExit(f"gpu_variants.py: no launches known for kernel '{kernel}'")
    base = {"batch": 2, "heads_q": 4, "heads_kv": 2, "D": c["HEAD_DIM"], "causal": int(bool(c["IS_CAUSAL"])),
            "sm_scale": 0.125}
    if "PHASE" in c:  # decode: a few query rows (BLOCK_M follows heads_q / heads_kv * seq_q) against long keys
        seq_q, seq_kv = [5, 16, 1, 40], [1000, 1024]
    else:
        seq_q = [256] if div.get("seq_q", 1) >= 16 else [129, 300]
        seq_kv = [384] if div.get("seq_kv", 1) >= 16 else ([127, 1000] if v["id"] % 2 else [1000, 127])
    for sq, skv in itertools.product(seq_q, seq_kv):
        yield types, dict(base, seq_q=sq, seq_kv=skv)


def explain(tritonpack, pack, arch, types, args, config):
    """{variant id: 'chosen' or 'could run'} for the launch on arch (`tritonpack run --explain`)."""
    cmd = [tritonpack, "run", pack, "--explain", arch, "--no-tuning", "-c", config]
    for t in types:
        cmd += ["-t", t]
    for k, a in args.items():
        cmd += ["-a", f"{k}={a}"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout
    found = {}
    for m in re.finditer(r"^\s*variant (\d+) \(.*\): (chosen|could run)", out, re.M):
        found[int(m.group(1))] = m.group(2)
    return found


def reach(tritonpack, pack, arch, kernel, config, steps, v):
    """The launch that runs variant v: the first candidate the runtime chooses it for, else the
    first it could run on (forced with --variant), else none."""
    forced = None
    for types, args in candidates(kernel, v):
        found = explain(tritonpack, pack, arch, types, args, config)
        if found.get(v["id"]) == "chosen":
            return {"types": types, "args": args, "config": config, "variant": None,
                    "covers": sorted(i for i, how in found.items() if how == "chosen"), "how": "chosen", "verify": True}
        if found.get(v["id"]) == "could run" and forced is None:
            forced = (types, args)
    if forced is None:
        return {"types": [], "args": {}, "config": config, "variant": v["id"], "covers": [v["id"]],
                "how": "no launch runs it", "verify": False}
    return {"types": forced[0], "args": forced[1], "config": config, "variant": v["id"], "covers": [v["id"]],
            "how": "forced", "verify": not steps}


def plan(tritonpack, pack, arch, jobs):
    """(manifest kernel, launches): each launch a dict with its options and the variant ids it
    covers (a kernel in steps: one variant a step)."""
    manifest = json.loads(subprocess.run([tritonpack, "inspect", "--json", pack], check=True, capture_output=True,
                                         text=True).stdout)
    (k, ) = manifest["kernels"]
    configs = [c["name"] for c in k["configs"]]
    steps = any("PHASE" in v["constexprs"] for v in k["variants"])
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        found = list(pool.map(lambda v: reach(tritonpack, pack, arch, k["name"], configs[v["config_index"]], steps, v),
                              k["variants"]))
    launches, at = [], {}
    for x in found:  # one launch for the variants of its steps
        key = json.dumps([x[f] for f in ("types", "args", "config", "variant", "covers")])
        if key not in at:
            at[key] = len(launches)
            launches.append(x)
    return k, launches


def command(tritonpack, pack, launch, tool):
    cmd = [tritonpack, "run", pack, "--no-tuning", "-c", launch["config"]]
    if launch["variant"] is not None:
        cmd += ["--variant", str(launch["variant"])]
    if not launch["verify"]:
        cmd += ["--no-verify"]
    for t in launch["types"]:
        cmd += ["-t", t]
    for k, a in launch["args"].items():
        # racecheck tracks every shared-memory access: a smaller launch of the same variant
        if tool == "racecheck" and k in ("batch", "heads_q", "heads_kv"):
            a = {"batch": 1, "heads_q": 2, "heads_kv": 1}[k]
        cmd += ["-a", f"{k}={a}"]
    if tool == "memcheck":
        return ["compute-sanitizer", "--tool", "memcheck", "--error-exitcode", "9"] + cmd
    return ["compute-sanitizer", "--tool", "racecheck", "--racecheck-report", "all", "--show-backtrace", "no",
            "--print-limit", "100000"] + cmd


def run_one(tritonpack, pack, launch, tool, racecheck_source, out_dir, name):
    if launch["how"] == "no launch runs it":
        return {"ok": False, "why": "no launch found that runs this variant"}
    start = time.time()
    try:
        p = subprocess.run(command(tritonpack, pack, launch, tool), capture_output=True, text=True, timeout=300)
        text = p.stdout + p.stderr
        rc = p.returncode
    except subprocess.TimeoutExpired:
        text, rc = "timed out after 300 s", -1
    res = {"seconds": round(time.time() - start, 1)}
    # "variant N (...)", and for a kernel in steps "step K of S (...): variant N (...)" too
    ran = sorted({int(i) for i in re.findall(r"^(?:step \d+ of \d+ \([^)]*\): )?variant (\d+) ", text, re.M)})
    res["ran"] = ran
    seed = re.search(r"seed (\d+)", text)
    res["seed"] = int(seed.group(1)) if seed else None
    problems = []
    if not set(launch["covers"]) <= set(ran):
        problems.append(f"ran variants {ran}, expected {launch['covers']}")
    if launch["verify"] and not re.search(r"^verify: PASSED", text, re.M):
        problems.append("not verified against the reference")
    if tool == "memcheck":
        if rc != 0 or "ERROR SUMMARY: 0 errors" not in text:
            summary = re.findall(r"ERROR SUMMARY: [^\n]*", text) or ["no summary"]
            problems.append(f"memcheck: exit {rc}, {summary[-1]}")
    else:
        log = os.path.join(out_dir, f"{name}.racecheck.txt")
        open(log, "w").write(text)
        source, function = racecheck_source
        h = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "racecheck_hazards.py"), log,
                            os.path.join(ROOT, source), function], capture_output=True, text=True)
        res["racecheck"] = (h.stdout.strip().splitlines() or [""])[-1]
        if h.returncode != 0:
            problems.append("racecheck: " + h.stdout.strip()[-400:])
        else:
            os.remove(log)
    if problems:
        open(os.path.join(out_dir, f"{name}.{tool}.log"), "w").write(" ".join(command(tritonpack, pack, launch, tool))
                                                                      + "\n" + text)
    res["ok"] = not problems
    res["why"] = "; ".join(problems)
    return res


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("tritonpack")
    ap.add_argument("out")
    ap.add_argument("packs", nargs="+")
    ap.add_argument("--jobs", type=int, default=8)
    ap.add_argument("--arch", default=None, help="sm_XX (default: this GPU's, from nvidia-smi)")
    ap.add_argument("--plan-only", action="store_true")
    a = ap.parse_args()
    arch = a.arch
    if arch is None:
        try:
            cap = subprocess.run(["nvidia-smi", "--query-gpu=compute_cap", "--format=csv,noheader"],
                                 capture_output=True, text=True).stdout.split()
        except FileNotFoundError:
            cap = []
        if not cap:
            raise SystemExit("gpu_variants.py: no GPU (nvidia-smi found none); --plan-only --arch sm_90 plans only")
        arch = "sm_" + cap[0].replace(".", "")
    if not a.plan_only:
        os.makedirs(a.out, exist_ok=True)
    failed = 0  # launches that failed, or (--plan-only) variants without a launch or a pack not read
    for pack in a.packs:
        try:
            k, launches = plan(a.tritonpack, pack, arch, max(a.jobs, os.cpu_count() or 1))
        except (subprocess.CalledProcessError, ValueError) as e:  # unreadable pack: fail it, go on
            detail = getattr(e, "stderr", "") or str(e)
            print(f"{pack}: FAILED: cannot read the pack: {detail.strip()[:300]}", flush=True)
            failed += 1
            continue
        n = len(k["variants"])
        hows = {h: len({i for x in launches if x["how"] == h for i in x["covers"]}) for h in ("chosen", "forced")}
        print(f"{k['name']}: {n} variants in {len(launches)} launches ({hows['chosen']} chosen by the runtime, "
              f"{hows['forced']} forced)", flush=True)
        if a.plan_only:
            for x in launches:
                print(f"  {x['how']:8} covers {x['covers']}: -c {x['config']} {' '.join('-t ' + t for t in x['types'])} "
                      f"{' '.join(f'-a {p}={q}' for p, q in x['args'].items())}"
                      f"{'' if x['variant'] is None else ' --variant %d' % x['variant']}{'' if x['verify'] else ' --no-verify'}")
            # A variant of this arch that the runtime never chooses would be dead weight in the
            # pack, or a launch these candidates miss: either way, worth a look.
            own = [i for x in launches if x["how"] != "chosen" for i in x["covers"]
                   if "sm_%d" % k["variants"][i]["arch"] == arch]
            if own:
                print(f"  variants of {arch} that no launch here selects: {own}")
            failed += sum(x["how"] == "no launch runs it" for x in launches) + len(own)
            continue
        race = next((s for p, s in WARP_SPECIALIZED.items() if k["name"].startswith(p)), None)
        jobs = [(i, "memcheck") for i in range(len(launches))] + ([(i, "racecheck") for i in range(len(launches))]
                                                                   if race else [])
        results = [dict() for _ in launches]
        with concurrent.futures.ThreadPoolExecutor(a.jobs) as pool:
            futs = {pool.submit(run_one, a.tritonpack, pack, launches[i], tool, race, a.out,
                                f"{k['name']}_{i}"): (i, tool) for i, tool in jobs}
            for f in concurrent.futures.as_completed(futs):
                i, tool = futs[f]
                results[i][tool] = f.result()
        entries = []
        for x, r in zip(launches, results):
            entries.append(dict(x, **{t: r[t] for t in r}))
        bad = [e for e in entries if not all(e[t]["ok"] for t in ("memcheck", "racecheck") if t in e)]
        failed += len(bad)
        json.dump({"kernel": k["name"], "pack": pack, "arch": arch, "variants": n, "launches": entries},
                  open(os.path.join(a.out, f"variants_{k['name']}.json"), "w"), indent=1)
        unverified = sum(len(e["covers"]) for e in entries if not e["verify"])
        print(f"  memcheck: {sum(e['memcheck']['ok'] for e in entries)}/{len(entries)} launches passed "
              f"(with 0 errors{' and verified' if not unverified else ''}; {unverified} forced steps run without "
              "the reference check)"
              + (f"; racecheck: {sum(e['racecheck']['ok'] for e in entries)}/{len(entries)} with 0 hazards on the "
                 "kernel's own shared memory" if race else ""), flush=True)
        for e in bad:
            print(f"  FAILED covers {e['covers']}: " + "; ".join(e[t]["why"] for t in ("memcheck", "racecheck")
                                                                 if t in e and not e[t]["ok"]))
    if a.plan_only:
        print("every variant has a launch" if not failed else f"{failed} variants without a launch, or packs not read")
    else:
        print("every variant passed" if not failed else f"{failed} launches failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
