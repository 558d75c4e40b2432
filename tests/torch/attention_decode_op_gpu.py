"""The attention family's split-KV decode member as PyTorch ops (GPU, sm_80 or newer):
attention_decode.tpack and attention_decode_bshd.tpack loaded with tritonpack.load. One op call is
the pack's two steps (partials into the workspace, then the combine), the number of key chunks
computed by the plugin core from the shapes (the spec's `splits` dim expression). Each call is
compared with float64 attention (causal aligned bottom-right, grouped-query heads); LSE too, -inf
exactly where a row sees no key. Eager, [B, S, H, D], torch.compile(fullgraph=True), and a CUDA
graph capture replayed on new inputs (both steps must be in the graph); a chain of calls, each
reading the one before's O, eager and as one CUDA graph. A head size no variant
serves (D 96) is refused with the rule.

Usage: python tests/torch/attention_decode_op_gpu.py <packs-folder>  (exit 0: every check passed;
77: no GPU of sm_80 or newer)."""

import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from attention_op_checks import FAILURES, check, expect_error, load_ops, reference  # noqa: E402


def main() -> int:
    if not torch.cuda.is_available() or torch.cuda.get_device_capability() < (8, 0):
        print("SKIPPED: needs a GPU of sm_80 or newer")
        return 77
    packs = sys.argv[1]
    (op, op_bshd), g = load_ops(packs, "attention_decode", "attention_decode_bshd")

    def inputs(b, hq, hkv, sq, sk, d, dtype):
        return (torch.randn((b, hq, sq, d), device="cuda", dtype=dtype, generator=g),
                torch.randn((b, hkv, sk, d), device="cuda", dtype=dtype, generator=g),
                torch.randn((b, hkv, sk, d), device="cuda", dtype=dtype, generator=g))

    cases = [  # B, Hq, Hkv, Sq, Sk, D, causal, dtype
        (8, 32, 8, 1, 4096, 128, 0, torch.float16),
        (4, 32, 8, 16, 1000, 128, 1, torch.bfloat16),
        (2, 8, 8, 1, 33000, 64, 1, torch.float16),
        (1, 6, 3, 40, 17, 64, 1, torch.bfloat16),  # rows that see no key; two 64-row blocks
        (3, 4, 1, 5, 100, 128, 0, torch.float16),
        (3, 5, 1, 7, 3000, 128, 1, torch.float16),  # 105 query rows: not a multiple of the combine's 4
    ]
    for (b, hq, hkv, sq, sk, d, causal, dtype) in cases:
        q, k, v = inputs(b, hq, hkv, sq, sk, d, dtype)
        scale = 1.0 / math.sqrt(d)
        ro, rl = reference(q, k, v, scale, causal)
        tag = f"B{b} Hq{hq} Hkv{hkv} Sq{sq} Sk{sk} D{d} causal={causal} {str(dtype)[6:]}"
        with torch.no_grad():
            o, lse = op(q, k, v, scale, causal)
            check(f"eager {tag}", o, lse, ro, rl, dtype)
            qb, kb, vb = (x.transpose(1, 2).contiguous() for x in (q, k, v))
            ob, lseb = op_bshd(qb, kb, vb, scale, causal)
            check(f"bshd {tag}", ob.transpose(1, 2), lseb, ro, rl, dtype)
    compiled = torch.compile(lambda q, k, v: op(q, k, v, 0.1, 1), fullgraph=True)
    q, k, v = inputs(2, 16, 4, 1, 3000, 128, torch.float16)
    with torch.no_grad():
        o, lse = compiled(q, k, v)
    ro, rl = reference(q, k, v, 0.1, 1)
    check("torch.compile(fullgraph) B2 Hq16 Hkv4 Sq1 Sk3000 D128 causal", o, lse, ro, rl, torch.float16)
    # A CUDA graph of one call, replayed on new inputs copied into the captured ones.
    q, k, v = inputs(4, 32, 8, 1, 8192, 128, torch.float16)
    with torch.no_grad():
        op(q, k, v, 0.088, 0)  # loads the variants before the capture
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            go, glse = op(q, k, v, 0.088, 0)
        nq, nk, nv = inputs(4, 32, 8, 1, 8192, 128, torch.float16)
        q.copy_(nq), k.copy_(nk), v.copy_(nv)
        go.fill_(float("nan")), glse.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
    ro, rl = reference(nq, nk, nv, 0.088, 0)
    check("CUDA graph replay B4 Hq32 Hkv8 Sq1 Sk8192 D128", go, glse, ro, rl, torch.float16)
    # Calls back to back, each reading the one before's O as its Q: on sm_90 the pack's launches
    # start before the launch ahead of them ends (programmatic dependent launch), so a step that
    # read its inputs, or overwrote the shared partials, before that launch finished would give a
    # wrong layer here. Eager, then the whole chain as one CUDA graph replayed on a new first Q.
    q, k, v = inputs(8, 32, 8, 1, 4096, 128, torch.float16)
    layers = 8
    with torch.no_grad():
        outs, lses = [q], []
        for _ in range(layers):
            o, lse = op(outs[-1], k, v, 0.088, 0)
            outs.append(o)
            lses.append(lse)
        for i in range(layers):
            ro, rl = reference(outs[i], k, v, 0.088, 0)
            check(f"chained eager layer {i + 1} of {layers} B8 Hq32 Hkv8 Sq1 Sk4096 D128", outs[i + 1], lses[i], ro, rl,
                  torch.float16)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            gouts = [q]
            glses = []
            for _ in range(layers):
                o, lse = op(gouts[-1], k, v, 0.088, 0)
                gouts.append(o)
                glses.append(lse)
        q.copy_(inputs(8, 32, 8, 1, 1, 128, torch.float16)[0])
        for o, lse in zip(gouts[1:], glses):
            o.fill_(float("nan")), lse.fill_(float("nan"))
        graph.replay()
        torch.cuda.synchronize()
        for i in range(layers):
            ro, rl = reference(gouts[i], k, v, 0.088, 0)
            check(f"chained CUDA graph layer {i + 1} of {layers}", gouts[i + 1], glses[i], ro, rl, torch.float16)
    with torch.no_grad():
        bad = torch.randn((1, 2, 1, 96), device="cuda", dtype=torch.float16)
        badkv = torch.randn((1, 2, 64, 96), device="cuda", dtype=torch.float16)
        expect_error("D 96 refused", lambda: op(bad, badkv, badkv, 0.1, 0), "HEAD_DIM")
    print(f"{'every check passed' if not FAILURES else 'FAILED: ' + ', '.join(FAILURES)}")
    return 0 if not FAILURES else 1


if __name__ == "__main__":
    sys.exit(main())
