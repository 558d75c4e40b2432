#!/usr/bin/env python3
"""Attention forward, side by side on one GPU (issue 11's benchmark):

  tritonpack    kernels/attention through the C++ runtime (ctypes, bench/tritonpack_capi.py); the
                pack's tuning table picks the config where it has one
  tritonpack_sm90  kernels/attention/attention_sm90 (the warp-specialized Gluon member, sm_90)
                through the C++ runtime, with --pack-sm90
  triton_jit_sm90  the same source through Gluon's JIT with the pack's grid (persistent: one
                program an SM): the price of going through the pack, or its gain
  tritonpack_decode  kernels/attention/attention_decode (split-KV: the partials step, then the
                combine step, both run by one launch of the pack) through the C++ runtime, with
                --pack-decode, on the decode rows; its splits as the spec's plugin computes them
  tritonpack_fp8  kernels/attention/attention_fp8 (e4m3 Q, K and V cast from the row's inputs, fp16
                O) through the C++ runtime, with --pack-fp8, on the rows that are not decode rows. Its
                error is against the same float32 reference as every method (so it includes the
                inputs' rounding to e4m3): the accuracy cost of FP8 against the fp16 result
  tritonpack_fp8_vt  kernels/attention/attention_fp8_vt (the same kernel reading V transposed,
                [B, HKV, D, SKV]), with --pack-fp8-vt, on the same rows: V^T is made once per row,
                outside the timing, as a caller that keeps its cache transposed would have it
  sdpa_cudnn    torch.nn.functional.scaled_dot_product_attention, cuDNN backend
  sdpa_flash    the same, FlashAttention backend
  triton_jit    Triton's JIT launching the same kernel source (kernels/attention/attention.py) with
                the config tritonpack runs: the price of going through the pack, or its gain
  fmha_seed     seed 01's kernel (kernels/fmha) through tritonpack, on the rows it can run
                (causal, heads_q == heads_kv, seq_q == seq_kv)

Rows (`ROWS`): square causal and non-causal attention, S 512 to 16384 at 16 heads, D 64 and 128
(batch so that B * S = 16384 tokens); grouped-query heads (32 query heads over 8); seed 01's shape
(B 8, H 32, S 512, D 64, causal); decoding: 1 and 16 query rows against 1k-32k keys (32 query
heads over 8 key/value heads, D 128, every key visible), reported in GB/s as well; and head size
256 (kind d256: S 1024-8192, causal and not), where the tritonpack method runs the attention_d256
pack given with --pack-d256 (the sm_90, FP8 and seed methods do not take D 256).

Before it is timed, each method runs once into a NaN-filled O and is compared, over the first and
last query heads of the first batch, with attention computed in float32 from the same inputs
(causal aligned bottom-right, as the family defines it): a normwise relative error within 4e-3
(fp16) or 2e-2 (bf16). A method that fails is reported at once and marked; a backend that refuses a
shape (SDPA's cuDNN or flash for some head layouts) is marked "unsupported" with its reason. Timing:
triton.testing.do_bench (L2 flushed before every run, CUDA events, median), the same warmup and rep
for all, in --rounds rounds with the methods in a fresh random order each round; the median over the
rounds. FLOPs count 4 * D per visible (query, key) pair: half of the square when causal.

Writes attention.csv and attention.json to --out (device, driver, versions, every row), prints a
table. bench/plot_attention.py draws the CSV. --dry-run prints the rows without a GPU.
"""

from __future__ import annotations

import argparse
import csv
import datetime
import importlib.util
import json
import math
import os
import random
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import tritonpack_capi as capi  # noqa: E402

KERNEL_FILE = os.path.join(REPO, "kernels", "attention", "attention.py")
TOLERANCE = {"fp16": 4e-3, "bf16": 2e-2}
# FP8 (e4m3) inputs against the fp16 inputs' reference: their rounding (2^-4) and P's.
FP8_TOLERANCE = 0.1
METHODS = ("tritonpack", "tritonpack_sm90", "tritonpack_decode", "tritonpack_fp8", "tritonpack_fp8_vt", "sdpa_cudnn",
           "sdpa_flash", "triton_jit", "triton_jit_sm90", "fmha_seed")
FP8_METHODS = ("tritonpack_fp8", "tritonpack_fp8_vt")
ATTENTION_ARGS = ["Q", "K", "V", "O", "LSE", "sm_scale", "batch", "heads_q", "heads_kv", "seq_q", "seq_kv", "causal"]
DECODE_ARGS = ATTENTION_ARGS[:5] + ["OP", "LP"] + ATTENTION_ARGS[5:] + ["splits"]
FMHA_ARGS = ["Out", "L", "M", "Q", "K", "V", "sm_scale", "batch_size", "num_heads", "seq_len"]


def rows():
    """(kind, B, HQ, HKV, SQ, SKV, D, causal)."""
    out = []
    for d in (64, 128):
        for causal in (True, False):
            for s in (512, 1024, 2048, 4096, 8192, 16384):
                out.append(("mha", max(1, 16384 // s), 16, 16, s, s, d, causal))
    for causal in (True, False):
        out.append(("gqa", 2, 32, 8, 4096, 4096, 128, causal))
    out.append(("seed", 8, 32, 32, 512, 512, 64, True))
    for causal in (True, False):  # head size 256: the attention_d256 pack (--pack-d256)
        for s in (1024, 4096, 8192):
            out.append(("d256", 16384 // s, 16, 16, s, s, 256, causal))
    for q in (1, 16):
        for kv in (1024, 4096, 16384, 32768):
            out.append(("decode", 8, 32, 8, q, kv, 128, False))
    return out


def decode_splits(b: int, hkv: int, skv: int, sms: int) -> int:
    """The key chunks of attention_decode's first step on a GPU of `sms` SMs, as its spec's plugin
    computes them (the `dim` of its `splits` param, clamp(2 * SM_COUNT / (B * HKV), 1,
    cdiv(SKV, 256)); the runtime checks a launch that gives the shapes against it)."""
    def cdiv(a, c):
        return -(-a // c)
    return max(1, min(2 * sms // (b * hkv), cdiv(skv, 256)))


def row_name(r) -> str:
    kind, b, hq, hkv, sq, skv, d, causal = r
    heads = f"{hq}" if hq == hkv else f"{hq}/{hkv}"
    seq = f"{sq}" if sq == skv else f"{sq}x{skv}"
    return f"{kind} B{b} H{heads} S{seq} D{d}{' causal' if causal else ''}"


def flops(r) -> float:
    _, b, hq, _, sq, skv, d, causal = r
    return 4.0 * b * hq * sq * skv * d / (2 if causal else 1)


def bytes_moved(r, esize: int) -> float:
    _, b, hq, hkv, sq, skv, d, _ = r
    return (2.0 * b * hq * sq + 2.0 * b * hkv * skv) * d * esize + 4.0 * b * hq * sq


class Bench:
    def __init__(self, args):
        import torch
        import triton
        from triton.testing import do_bench

        if not torch.cuda.is_available():
            raise SystemExit("no CUDA device (use --dry-run to print the rows without one)")
        self.torch, self.triton, self.do_bench, self.args = torch, triton, do_bench, args
        torch.backends.cuda.matmul.allow_tf32 = False
        self.dtype = {"fp16": torch.float16, "bf16": torch.bfloat16}[args.dtype]
        self.lib = capi.Library(args.lib)
        self.kernel = self.load(args.pack, "attention", ATTENTION_ARGS)
        self.sm90 = self.load(args.pack_sm90, "attention_sm90", ATTENTION_ARGS)
        self.decode = self.load(args.pack_decode, "attention_decode", DECODE_ARGS)
        self.fp8 = self.load(args.pack_fp8, "attention_fp8", ATTENTION_ARGS)
        self.fp8_vt = self.load(args.pack_fp8_vt, "attention_fp8_vt", ATTENTION_ARGS)
        self.fmha = self.load(args.fmha, "fmha", FMHA_ARGS)
        self.d256 = self.load(args.pack_d256, "attention_d256", ATTENTION_ARGS)
        if self.sm90 is not None:
            import attention_sm90_jit  # noqa: E402 - bench/, beside this file; puts kernels/attention on the path
            import attention_sm90  # noqa: E402
            self.sm90_jit, self.sm90_module = attention_sm90_jit, attention_sm90
        spec = importlib.util.spec_from_file_location("tritonpack_attention_kernel", KERNEL_FILE)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.jit = module.attention_fwd
        self.failures = []

    def load(self, path, name, arg_names):
        """Kernel `name` of the pack at `path` (None without a path), checked to take `arg_names`."""
        if not path:
            return None
        pack = self.lib.open(path)
        kernel = pack.kernel(name)
        pack.close()
        if kernel.arg_names() != arg_names:
            raise SystemExit(f"{path}: kernel '{name}' takes {kernel.arg_names()}, not {arg_names}")
        return kernel

    @staticmethod
    def attention_args(r, qkv, qkv_dtype, o, o_dtype, lse, scale, descriptors=False):
        """ATTENTION_ARGS for row r: Q, K, V (tensors, or descriptors over them), O, LSE, scalars."""
        _, b, hq, hkv, sq, skv, _, causal = r
        args = capi.Arguments(len(ATTENTION_ARGS))
        for i, t in enumerate(qkv):
            (args.descriptor if descriptors else args.tensor)(i, t.data_ptr(), qkv_dtype, tuple(t.shape))
        args.tensor(3, o.data_ptr(), o_dtype, tuple(o.shape))
        args.tensor(4, lse.data_ptr(), "fp32", tuple(lse.shape))
        args.real(5, scale)
        for i, value in enumerate((b, hq, hkv, sq, skv, int(causal)), start=6):
            args.integer(i, value)
        return args

    def reference(self, q, k, v, r, scale):
        """float32 O of batch 0's first and last query heads, [2, SQ, D]."""
        torch = self.torch
        _, _, hq, hkv, sq, skv, d, causal = r
        outs = []
        for h in (0, hq - 1):
            hk = h // (hq // hkv)
            s = (q[0, h].float() @ k[0, hk].float().T) * scale
            if causal:
                i = torch.arange(sq, device=s.device)[:, None]
                j = torch.arange(skv, device=s.device)[None, :]
                s = s.masked_fill(j > i + (skv - sq), float("-inf"))
            outs.append(torch.softmax(s, dim=-1) @ v[0, hk].float())
        return torch.stack(outs)

    def check(self, fn, o, r, ref, tol=None) -> tuple[float, str]:
        torch = self.torch
        hq = r[2]
        o.fill_(float("nan"))
        fn()
        torch.cuda.synchronize()
        got = torch.stack([o[0, 0], o[0, hq - 1]]).float()
        if not bool(torch.isfinite(got).all()):
            return math.nan, "O has elements that are not finite (unwritten: still NaN)"
        err = float(torch.linalg.vector_norm(got - ref) / max(float(torch.linalg.vector_norm(ref)), 1e-30))
        tol = tol if tol is not None else TOLERANCE[self.args.dtype]
        return err, "" if err <= tol else f"relative error {err:.3g} > {tol:g}"

    def methods(self, r, q, k, v, o, lse, scale):
        torch = self.torch
        from torch.nn.attention import SDPBackend, sdpa_kernel
        import torch.nn.functional as F

        _, b, hq, hkv, sq, skv, d, causal = r
        stream = torch.cuda.current_stream().cuda_stream
        args = self.attention_args(r, (q, k, v), self.args.dtype, o, self.args.dtype, lse, scale)
        opts = capi.options()
        # The portable member: head size 256 from its own pack (attention_d256.toml).
        portable = self.d256 if d == 256 and self.d256 is not None else self.kernel
        variant, explanation = portable.explain(args, opts, 0)
        config = capi.chosen_config(explanation) if variant >= 0 else ""
        fns = {"tritonpack": lambda: portable.launch(args, stream, opts)}
        self.sm90_config = ""
        if self.sm90 is not None and d in (64, 128):
            # Descriptors over the dense tensors.
            sargs = self.attention_args(r, (q, k, v), self.args.dtype, o, self.args.dtype, lse, scale, descriptors=True)
            self._sm90_args = sargs
            sopts = capi.options()
            fns["tritonpack_sm90"] = lambda: self.sm90.launch(sargs, stream, sopts)
            sms = torch.cuda.get_device_properties(q.device).multi_processor_count
            # The JIT runs the config the pack runs (a tuned pack may pick 64-key blocks).
            svariant, sexplanation = self.sm90.explain(sargs, sopts, 0)
            self.sm90_config = capi.chosen_config(sexplanation) if svariant >= 0 else ""
            # Config names: ws (128-key blocks) or ws_n64, and a _desc suffix for the descending key order.
            block_n = 64 if self.sm90_config.startswith("ws_n64") else 128
            try:
                fns["triton_jit_sm90"] = self.sm90_jit.launcher(self.sm90_module, q, k, v, o, lse, scale, causal, sms,
                                                                block_n,
                                                                descending=self.sm90_config.endswith("_desc"))
            except Exception as e:  # noqa: BLE001 - reported as the method's status, like a refusal
                def refused(e=e):
                    raise e
                fns["triton_jit_sm90"] = refused

        if self.decode is not None and sq <= 16:
            splits = decode_splits(b, hkv, skv, torch.cuda.get_device_properties(q.device).multi_processor_count)
            self._decode_partials = (torch.empty((splits, b, hq, sq, d), device="cuda", dtype=torch.float32),
                                     torch.empty((splits, b, hq, sq), device="cuda", dtype=torch.float32))
            dargs = capi.Arguments(len(DECODE_ARGS))
            for i, t in enumerate((q, k, v, o)):
                dargs.tensor(i, t.data_ptr(), self.args.dtype, tuple(t.shape))
            for i, t in enumerate((lse, *self._decode_partials), start=4):
                dargs.tensor(i, t.data_ptr(), "fp32", tuple(t.shape))
            dargs.real(7, scale)
            for i, value in enumerate((b, hq, hkv, sq, skv, int(causal), splits), start=8):
                dargs.integer(i, value)
            self._decode_args = dargs
            dopts = capi.options()
            fns["tritonpack_decode"] = lambda: self.decode.launch(dargs, stream, dopts)

        if r[0] != "decode" and d in (64, 128):
            e4m3 = torch.float8_e4m3fn
            self._fp8_args = []  # kept alive while the lambdas may launch
            for method, kernel in (("tritonpack_fp8", self.fp8), ("tritonpack_fp8_vt", self.fp8_vt)):
                if kernel is None:
                    continue
                v_in = v.transpose(-1, -2).contiguous() if method == "tritonpack_fp8_vt" else v
                inputs = tuple(t.to(e4m3) for t in (q, k, v_in))
                eargs = self.attention_args(r, inputs, "fp8e4nv", o, "fp16", lse, scale)
                self._fp8_args.append((inputs, eargs))
                eopts = capi.options()
                fns[method] = lambda kernel=kernel, eargs=eargs, eopts=eopts: kernel.launch(eargs, stream, eopts)

        def sdpa(backend):
            def run():  # timed as users call it: SDPA allocates its output
                with sdpa_kernel(backend):
                    return F.scaled_dot_product_attention(q, k, v, is_causal=causal, scale=scale, enable_gqa=hq != hkv)
            return run

        # Checked through O (copied in, outside the timing).
        self.check_fns = {"sdpa_cudnn": lambda: o.copy_(fns["sdpa_cudnn"]()),
                          "sdpa_flash": lambda: o.copy_(fns["sdpa_flash"]())}
        fns["sdpa_cudnn"] = sdpa(SDPBackend.CUDNN_ATTENTION)
        fns["sdpa_flash"] = sdpa(SDPBackend.FLASH_ATTENTION)
        # The portable member's configs (attention.toml, attention_d256.toml): tile and warps.
        bm, bn, warps = {"m64n64": (64, 64, 4), "m128n128": (128, 128, 8), "m64n64w8": (64, 64, 8),
                         "m128n64w8": (128, 64, 8)}.get(config, (64, 64, 4))
        grid = (self.triton.cdiv(sq, bm), b * hq, 1)
        fns["triton_jit"] = lambda: self.jit[grid](q, k, v, o, lse, scale, b, hq, hkv, sq, skv, int(causal),
                                                   HEAD_DIM=d, IS_CAUSAL=causal, BSHD=False, V_T=False, BLOCK_M=bm,
                                                   BLOCK_N=bn, num_warps=warps, num_stages=2)
        if self.fmha is not None and causal and hq == hkv and sq == skv and d in (64, 128):
            fargs = capi.Arguments(len(FMHA_ARGS))
            fargs.tensor(0, o.data_ptr(), self.args.dtype, tuple(o.shape))
            # L and M: the seed's statistics, [B * H, S] fp32 each; LSE's buffer holds one of them.
            self._seed_stats = torch.empty((2, b * hq, sq), device="cuda", dtype=torch.float32)
            fargs.tensor(1, self._seed_stats[0].data_ptr(), "fp32", (b * hq, sq))
            fargs.tensor(2, self._seed_stats[1].data_ptr(), "fp32", (b * hq, sq))
            for i, t in enumerate((q, k, v), start=3):
                fargs.tensor(i, t.data_ptr(), self.args.dtype, tuple(t.shape))
            fargs.real(6, scale)
            for i, value in enumerate((b, hq, sq), start=7):
                fargs.integer(i, value)
            fopts = capi.options()
            fns["fmha_seed"] = lambda: self.fmha.launch(fargs, stream, fopts)
        return fns, config, args

    def row(self, index, r) -> dict:
        torch = self.torch
        kind, b, hq, hkv, sq, skv, d, causal = r
        torch.cuda.empty_cache()
        g = torch.Generator(device="cuda").manual_seed(self.args.seed + index)
        q = torch.randn((b, hq, sq, d), device="cuda", dtype=self.dtype, generator=g)
        k = torch.randn((b, hkv, skv, d), device="cuda", dtype=self.dtype, generator=g)
        v = torch.randn((b, hkv, skv, d), device="cuda", dtype=self.dtype, generator=g)
        o = torch.empty((b, hq, sq, d), device="cuda", dtype=self.dtype)
        lse = torch.empty((b, hq, sq), device="cuda", dtype=torch.float32)
        scale = 1.0 / math.sqrt(d)
        ref = self.reference(q, k, v, r, scale)
        fns, config, _ = self.methods(r, q, k, v, o, lse, scale)
        out = {"row": row_name(r), "kind": kind, "B": b, "HQ": hq, "HKV": hkv, "SQ": sq, "SKV": skv, "D": d,
               "causal": causal, "dtype": self.args.dtype, "tritonpack_config": config,
               "tritonpack_sm90_config": self.sm90_config}
        checked = {}
        for method in METHODS:
            if method not in fns:
                out[f"{method}_status"] = "n/a"
                continue
            try:
                tol = FP8_TOLERANCE if method in FP8_METHODS else None
                err, problem = self.check(self.check_fns.get(method, fns[method]), o, r, ref, tol)
            except Exception as e:  # noqa: BLE001 - a backend refusing a shape is a result, reported
                err, problem = math.nan, f"unsupported: {type(e).__name__}: {str(e).splitlines()[0][:160]}"
            out[f"{method}_rel_error"] = err
            if problem:
                out[f"{method}_status"] = problem
                if not problem.startswith("unsupported"):
                    self.failures.append(f"{row_name(r)}: {method}: {problem}")
                    print(f"WRONG: {method} at {row_name(r)}: {problem}", file=sys.stderr, flush=True)
            else:
                out[f"{method}_status"] = "ok"
                checked[method] = fns[method]
        times = {m: [] for m in checked}
        order = random.Random(self.args.seed * 1000003 + index)
        for _ in range(self.args.rounds):
            names = list(checked)
            order.shuffle(names)
            for m in names:
                times[m].append(self.do_bench(checked[m], warmup=self.args.warmup, rep=self.args.rep,
                                              return_mode="median"))
        esize = 2
        for m in METHODS:
            ms = statistics.median(times[m]) if times.get(m) else math.nan
            out[f"{m}_ms"] = ms
            out[f"{m}_tflops"] = flops(r) / (ms * 1e-3) / 1e12 if ms == ms else math.nan
            out[f"{m}_gbps"] = bytes_moved(r, esize) / (ms * 1e-3) / 1e9 if ms == ms else math.nan
        for other in ("sdpa_cudnn", "sdpa_flash", "triton_jit", "fmha_seed"):
            a, c = out["tritonpack_ms"], out[f"{other}_ms"]
            out[f"tritonpack_vs_{other}"] = c / a if a == a and c == c else math.nan
        for other in ("sdpa_cudnn", "sdpa_flash", "triton_jit_sm90"):
            a, c = out["tritonpack_sm90_ms"], out[f"{other}_ms"]
            out[f"tritonpack_sm90_vs_{other}"] = c / a if a == a and c == c else math.nan
        for method, other in (("tritonpack_fp8", "sdpa_cudnn"), ("tritonpack_fp8_vt", "sdpa_cudnn"),
                              ("tritonpack_fp8_vt", "tritonpack_fp8")):
            a, c = out[f"{method}_ms"], out[f"{other}_ms"]
            out[f"{method}_vs_{other}"] = c / a if a == a and c == c else math.nan
        for other in ("sdpa_cudnn", "sdpa_flash"):
            a, c = out["tritonpack_decode_ms"], out[f"{other}_ms"]
            out[f"tritonpack_decode_vs_{other}"] = c / a if a == a and c == c else math.nan
        # Against SDPA's fastest backend on the row (the decode rows' target).
        sdpa_ms = [out[f"{m}_ms"] for m in ("sdpa_cudnn", "sdpa_flash") if out[f"{m}_ms"] == out[f"{m}_ms"]]
        a = out["tritonpack_decode_ms"]
        out["tritonpack_decode_vs_sdpa_best"] = min(sdpa_ms) / a if sdpa_ms and a == a else math.nan
        return out

    def environment(self) -> dict:
        torch, triton = self.torch, self.triton
        p = torch.cuda.get_device_properties(0)
        driver = ""
        try:
            import subprocess
            driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                    capture_output=True, text=True, timeout=20).stdout.split("\n")[0].strip()
        except (OSError, subprocess.SubprocessError):
            pass
        return {"device": torch.cuda.get_device_name(0), "arch": f"sm_{p.major}{p.minor}", "driver": driver,
                "cuda": torch.version.cuda, "cudnn": torch.backends.cudnn.version(), "torch": torch.__version__,
                "triton": triton.__version__, "tritonpack": self.lib.version(), "dtype": self.args.dtype,
                "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "seed": self.args.seed, "rounds": self.args.rounds, "warmup_ms": self.args.warmup,
                "rep_ms": self.args.rep, "order": "random per round; median over rounds"}


CSV_FIELDS = (["row", "kind", "B", "HQ", "HKV", "SQ", "SKV", "D", "causal", "dtype", "tritonpack_config",
               "tritonpack_sm90_config"]
              + [f"{m}_{w}" for w in ("tflops", "gbps", "ms", "rel_error", "status") for m in METHODS]
              + [f"tritonpack_vs_{m}" for m in ("sdpa_cudnn", "sdpa_flash", "triton_jit", "fmha_seed")]
              + [f"tritonpack_sm90_vs_{m}" for m in ("sdpa_cudnn", "sdpa_flash", "triton_jit_sm90")]
              + [f"tritonpack_decode_vs_{m}" for m in ("sdpa_cudnn", "sdpa_flash", "sdpa_best")]
              + ["tritonpack_fp8_vs_sdpa_cudnn", "tritonpack_fp8_vt_vs_sdpa_cudnn",
                 "tritonpack_fp8_vt_vs_tritonpack_fp8"])


def print_table(env, out_rows):
    print(f"\n{env['device']} ({env['arch']}), driver {env['driver']}, CUDA {env['cuda']}, cuDNN {env['cudnn']}, "
          f"torch {env['torch']}, triton {env['triton']}, tritonpack {env['tritonpack']}, {env['dtype']}; "
          "TFLOP/s (decode rows: GB/s)")
    print(f"{'row':>34} {'tp':>7} {'sm90':>7} {'decode':>7} {'fp8':>7} {'fp8vt':>7} {'cudnn':>7} {'flash':>7} "
          f"{'jit':>7} {'jit90':>7} {'seed':>7}  "
          f"{'tp/cudnn':>8} {'sm90/cudnn':>10} {'tp/flash':>8} {'dec/sdpa':>8}  config")
    for r in out_rows:
        unit = "gbps" if r["kind"] == "decode" else "tflops"

        def cell(m):
            v = r.get(f"{m}_{unit}", math.nan)
            return f"{v:7.1f}" if v == v else f"{'-':>7}"
        print(f"{r['row']:>34} {cell('tritonpack')} {cell('tritonpack_sm90')} {cell('tritonpack_decode')} {cell('tritonpack_fp8')} "
              f"{cell('tritonpack_fp8_vt')} {cell('sdpa_cudnn')} "
              f"{cell('sdpa_flash')} {cell('triton_jit')} {cell('triton_jit_sm90')} {cell('fmha_seed')}  "
              f"{r['tritonpack_vs_sdpa_cudnn']:8.2f} "
              f"{r['tritonpack_sm90_vs_sdpa_cudnn']:10.2f} {r['tritonpack_vs_sdpa_flash']:8.2f} "
              f"{r['tritonpack_decode_vs_sdpa_best']:8.2f}  "
              f"{r['tritonpack_config']} {r['tritonpack_sm90_config']}")
    bad = [(r["row"], m, r[f"{m}_status"]) for r in out_rows for m in METHODS
           if r.get(f"{m}_status", "ok") not in ("ok", "n/a")]
    for row, m, status in bad:
        print(f"  {row}: {m}: {status}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--lib", help="libtritonpack_runtime.so")
    p.add_argument("--pack", help="the attention pack (kernels/attention/attention.toml), tuned or not")
    p.add_argument("--pack-sm90", help="the sm_90 pack (kernels/attention/attention_sm90.toml), optional")
    p.add_argument("--pack-decode", help="the split-KV decode pack (kernels/attention/attention_decode.toml), "
                   "optional: run on the decode rows")
    p.add_argument("--pack-fp8", help="the FP8 pack (kernels/attention/attention_fp8.toml, sm_90), optional: "
                   "e4m3 inputs, fp16 output, on the rows that are not decode rows")
    p.add_argument("--pack-fp8-vt", help="the FP8 pack that takes V transposed "
                   "(kernels/attention/attention_fp8_vt.toml, sm_90), optional: as --pack-fp8, with V given as "
                   "[B, HKV, D, SKV]")
    p.add_argument("--pack-d256", help="the head-size-256 pack (kernels/attention/attention_d256.toml), optional: "
                   "the tritonpack method on the d256 rows")
    p.add_argument("--fmha", help="seed 01's pack (kernels/fmha/fmha.toml), for the fmha_seed method")
    p.add_argument("--out", help="folder for attention.csv and attention.json")
    p.add_argument("--dtype", choices=sorted(TOLERANCE), default="fp16")
    p.add_argument("--kinds", nargs="+", default=["mha", "gqa", "seed", "decode"], help="which rows")
    p.add_argument("--warmup", type=int, default=25, help="do_bench warmup, ms")
    p.add_argument("--rep", type=int, default=50, help="do_bench repetition time per round, ms")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seed", type=int, default=None, help="input seed (default: a fresh one, printed)")
    p.add_argument("--dry-run", action="store_true", help="print the rows without a GPU")
    args = p.parse_args(argv)
    selected = [r for r in rows() if r[0] in args.kinds]
    if args.dry_run:
        for r in selected:
            print(f"{row_name(r)}: {flops(r) / 1e9:.1f} GFLOP")
        return 0
    if not (args.lib and args.pack and args.out):
        p.error("--lib, --pack and --out are required (or --dry-run)")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1 << 31)
    bench = Bench(args)
    print(f"{bench.torch.cuda.get_device_name(0)}: {len(selected)} rows, seed {args.seed}", flush=True)
    out_rows = []
    for i, r in enumerate(selected):
        out_rows.append(bench.row(i, r))
        x = out_rows[-1]
        print(f"  {x['row']}: tritonpack {x['tritonpack_tflops']:.1f}, sm90 {x['tritonpack_sm90_tflops']:.1f}, "
              f"decode {x['tritonpack_decode_gbps']:.0f} GB/s, "
              f"cudnn {x['sdpa_cudnn_tflops']:.1f}, "
              f"flash {x['sdpa_flash_tflops']:.1f} TFLOP/s", flush=True)
    env = bench.environment()
    print_table(env, out_rows)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "attention.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(out_rows)

    def clean(v):
        return None if isinstance(v, float) and v != v else v
    with open(os.path.join(args.out, "attention.json"), "w") as f:
        json.dump({"environment": env, "rows": [{k: clean(v) for k, v in r.items()} for r in out_rows],
                   "failures": bench.failures}, f, indent=1)
    print(f"wrote {args.out}/attention.csv and attention.json")
    if bench.failures:
        print(f"{len(bench.failures)} wrong results", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
