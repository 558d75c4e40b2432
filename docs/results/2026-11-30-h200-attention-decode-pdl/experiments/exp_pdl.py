"""Decode PDL A/B (session experiment, not shipped): attention_decode pack, config n64s3_pdl vs
n64s3, vs SDPA backends; do_bench L2-flushed medians, rounds interleaved; plus CUDA-graph replay
of 20 back-to-back decodes (an engine's steady state)."""
import math, os, random, statistics, sys, json
import torch
from triton.testing import do_bench
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "bench"))
import tritonpack_capi as capi
from torch.nn.attention import sdpa_kernel, SDPBackend
import torch.nn.functional as F

lib = capi.Library(sys.argv[1]); pack = lib.open(sys.argv[2]); kern = pack.kernel("attention_decode"); pack.close()
sms = torch.cuda.get_device_properties(0).multi_processor_count
def cdiv(a, c): return -(-a // c)
res = []
for sq in (1, 16):
  for skv in (1024, 4096, 16384, 32768):
    b, hq, hkv, d = 8, 32, 8, 128
    splits = max(1, min(2 * sms // (b * hkv), cdiv(skv, 256)))
    g = torch.Generator(device="cuda").manual_seed(sq * 100000 + skv)
    q = torch.randn((b, hq, sq, d), device="cuda", dtype=torch.float16, generator=g)
    k = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16, generator=g)
    v = torch.randn((b, hkv, skv, d), device="cuda", dtype=torch.float16, generator=g)
    o = torch.empty_like(q); lse = torch.empty((b, hq, sq), device="cuda", dtype=torch.float32)
    op = torch.empty((splits, b, hq, sq, d), device="cuda", dtype=torch.float32)
    lp = torch.empty((splits, b, hq, sq), device="cuda", dtype=torch.float32)
    scale = 1 / math.sqrt(d)
    args = capi.Arguments(15)
    for i, t in enumerate((q, k, v, o)): args.tensor(i, t.data_ptr(), "fp16", tuple(t.shape))
    for i, t in enumerate((lse, op, lp), start=4): args.tensor(i, t.data_ptr(), "fp32", tuple(t.shape))
    args.real(7, scale)
    for i, val in enumerate((b, hq, hkv, sq, skv, 0, splits), start=8): args.integer(i, val)
    stream = torch.cuda.current_stream().cuda_stream
    fns = {}
    optsets = {}
    for cfg in ("n64s3_pdl", "n64s3"):
      oo = capi.options(); oo.config = cfg.encode(); optsets[cfg] = oo
      fns["tp_" + cfg] = (lambda oo=oo: kern.launch(args, stream, oo))
    kr = k.repeat_interleave(hq // hkv, 1); vr = v.repeat_interleave(hq // hkv, 1)
    for name, be in (("cudnn", SDPBackend.CUDNN_ATTENTION), ("flash", SDPBackend.FLASH_ATTENTION), ("efficient", SDPBackend.EFFICIENT_ATTENTION)):
      def f(be=be):
        with sdpa_kernel(be):
          return F.scaled_dot_product_attention(q, k, v, scale=scale, enable_gqa=True)
      try:
        f(); fns["sdpa_" + name] = f
      except Exception as e:
        print("skip", name, str(e)[:80])
    ref = torch.softmax((q.double() @ kr.double().transpose(-1, -2)) * scale, -1) @ vr.double()
    for cfg in ("n64s3_pdl", "n64s3"):
      o.fill_(float("nan")); fns["tp_" + cfg](); torch.cuda.synchronize()
      err = ((o.double() - ref).norm() / ref.norm()).item()
      print(f"sq{sq} kv{skv} {cfg} rel err {err:.2e}", flush=True); assert err < 2e-3
    times = {m: [] for m in fns}
    rng = random.Random(skv + sq)
    for _ in range(5):
      names = list(fns); rng.shuffle(names)
      for m in names: times[m].append(do_bench(fns[m], warmup=25, rep=200, return_mode="median"))
    row = {"sq": sq, "skv": skv, "splits": splits}
    byts = (2 * b * hq * sq + 2 * b * hkv * skv) * d * 2 + 4 * b * hq * sq
    for m in fns:
      ms = statistics.median(times[m]); row[m + "_us"] = ms * 1e3; row[m + "_gbps"] = byts / ms / 1e6
    # CUDA graph: 20 back-to-back decodes
    for m in ["tp_n64s3_pdl", "tp_n64s3"] + [x for x in fns if x.startswith("sdpa")][:1]:
      s = torch.cuda.Stream()
      with torch.cuda.stream(s):
        gr = torch.cuda.CUDAGraph()
        with torch.cuda.graph(gr, stream=s):
          for _ in range(20):
            if m.startswith("tp_"): kern.launch(args, s.cuda_stream, optsets[m[3:]])
            else: fns[m]()
      gr.replay(); torch.cuda.synchronize()
      if m.startswith("tp_"):
        err = ((o.double() - ref).norm() / ref.norm()).item(); assert err < 2e-3, err
      t = do_bench(lambda: gr.replay(), warmup=10, rep=200, return_mode="median")
      row[m + "_graph_us"] = t * 1e3 / 20
    res.append(row)
    print(json.dumps({k2: (round(v2, 2) if isinstance(v2, float) else v2) for k2, v2 in row.items()}), flush=True)
out = os.environ.get("OUT", ".")
json.dump(res, open(os.path.join(out, "exp_pdl.json"), "w"), indent=1)
