"""The op library without a GPU (ctest torch_ops_meta, docs/torch.md): packs made from the shipped
specs without Triton (adapters/torch/tests/write_packs.cpp) are registered through tritonpack.load
and checked on PyTorch's meta device and with fake tensors: schemas, shapes with concrete, backed
and unbacked symbolic sizes, torch.compile(fullgraph=True) and torch.export tracing through the op,
the core's errors as RuntimeError, loading twice, other/missing/corrupt packs.

Environment: TRITONPACK_TORCH_LIBRARY (the built op library), TRITONPACK_TORCH_TEST_PACKS (the
packs' folder), PYTHONPATH with the repository's python/. Exit 0 if every check passes, 1 if not.
"""

import os
import re
import sys

import torch

import tritonpack
from _cases import case, finish

PACKS = os.environ["TRITONPACK_TORCH_TEST_PACKS"]




def raises(pattern, fn, *args, **kwargs):
    try:
        fn(*args, **kwargs)
    except RuntimeError as e:
        if not re.search(pattern, str(e), re.S):
            raise AssertionError(f"error {str(e)[:2000]!r} does not match {pattern!r}") from e
        return str(e)
    raise AssertionError(f"no RuntimeError (expected one matching {pattern!r})")


def pack(name):
    return os.path.join(PACKS, name + ".tpack")


def meta(*shape, dtype=torch.float16):
    return torch.empty(*shape, dtype=dtype, device="meta")


names = tritonpack.load(pack("fmha"))
plugingen_names = tritonpack.load(pack("fmha_plugingen"))
fmha = torch.ops.tritonpack.tritonpack_fmha
plugingen = torch.ops.tritonpack.fused_attention_kernel


@case
def load_returns_the_op_names_and_is_idempotent():
    assert names == ["tritonpack::tritonpack_fmha"], names
    assert plugingen_names == ["tritonpack::fused_attention_kernel"], plugingen_names
    assert tritonpack.load(pack("fmha")) == names  # the same bytes again: nothing new, same names
    assert str(tritonpack.library_path()) == os.environ["TRITONPACK_TORCH_LIBRARY"]


@case
def schema_from_the_spec():
    assert str(fmha.default._schema) == \
        "tritonpack::tritonpack_fmha(Tensor Q, Tensor K, Tensor V, float sm_scale) -> Tensor", fmha.default._schema
    # PluginGen's FMHA: three outputs, an integer field.
    assert str(plugingen.default._schema) == ("tritonpack::fused_attention_kernel(Tensor Q, Tensor K, Tensor V, "
                                              "float sm_scale, int num_heads) -> (Tensor, Tensor, Tensor)"), \
        plugingen.default._schema
    assert torch.Tag.pt2_compliant_tag in fmha.default.tags


@case
def other_missing_corrupt_and_kernelless_packs():
    raises(r"torch\.ops\.tritonpack\.tritonpack_fmha is already registered from kernel 'fmha' of .*fmha\.tpack.*"
           r"fmha_other\.tpack.* is another op of that name", tritonpack.load, pack("fmha_other"))
    raises(r"cannot open pack .*missing\.tpack", tritonpack.load, pack("missing"))
    # A corrupt blob, which opening a pack leaves to the blob's first use: load checks every blob.
    raises(r"corrupt pack '.*corrupt\.tpack': blobs\[\d+\]: hash mismatch: the manifest says [0-9a-f]{64}, "
           r"the bytes hash to [0-9a-f]{64}", tritonpack.load, pack("corrupt"))
    raises(r"has no kernel that can be a torch op:\n  kernel 'vector_add': .*scalar 'n_elements' gets no value",
           tritonpack.load, pack("vector_add"))
    assert tritonpack.load(pack("fmha")) == names  # the failures changed nothing


@case
def meta_shapes_and_dtypes_concrete():
    for dtype in (torch.float16, torch.bfloat16):
        for shape in ((2, 4, 77, 64), (1, 3, 1000, 128), (1, 1, 1, 64)):
            q, k, v = meta(*shape, dtype=dtype), meta(*shape, dtype=dtype), meta(*shape, dtype=dtype)
            out = fmha(q, k, v, 0.125)
            assert out.shape == shape and out.dtype == dtype and out.device.type == "meta", (out.shape, out.dtype)
    q = meta(2, 4, 1000, 64)
    out, l, m = plugingen(q, q, q, 0.125, 4)
    assert out.shape == (2, 4, 1000, 64) and out.dtype == torch.float16
    assert l.shape == (2, 4, 1000) and l.dtype == torch.float32 and m.shape == (2, 4, 1000), (l.shape, m.shape)


@case
def meta_errors_are_the_cores():
    q = meta(2, 4, 80, 64)
    raises(r"^torch\.ops\.tritonpack\.tritonpack_fmha: input 'Q' has shape 4x80x64 \(rank 3\); plugin "
           r"'tritonpack_fmha' wants rank 4 \[B, H, S, D\]", fmha, q[0], q[0], q[0], 0.1)
    raises(r"input 'K' dim 2 is 81 but 'Q' dim 2 is 80 \(both are 'S'\)", fmha, q, meta(2, 4, 81, 64), q, 0.1)
    q96 = meta(2, 4, 80, 96)
    raises(r"no variant of the pack runs these inputs on any arch it was compiled for; on sm_90: .*"
           r"rule 'D == BLOCK_DMODEL' does not hold: D=96, BLOCK_DMODEL=64", fmha, q96, q96, q96, 0.1)
    raises(r"'K'.*bf16|bf16.*'K'", fmha, q, meta(2, 4, 80, 64, dtype=torch.bfloat16), q, 0.1)
    f32 = meta(2, 4, 80, 64, dtype=torch.float32)
    raises(r"fp32", fmha, f32, f32, f32, 0.1)
    raises(r"input 'Q' has dtype ComplexFloat, which no tritonpack kernel takes", fmha,
           meta(2, 4, 80, 64, dtype=torch.complex64), q, q, 0.1)
    raises(r"expected.*(float|double)|sm_scale", fmha, q, q, q, "x")  # the schema's own type check


@case
def requires_grad_is_refused_not_silently_dropped():
    q = meta(2, 4, 80, 64).requires_grad_()
    raises(r"input 'Q' requires grad, but tritonpack ops have no backward; call the op under torch\.no_grad\(\)",
           fmha, q, q, q, 0.1)
    with torch.no_grad():
        assert fmha(q, q, q, 0.1).shape == q.shape


@case
def fake_tensors_with_backed_and_unbacked_symbolic_sizes():
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.fx.experimental.symbolic_shapes import ShapeEnv
    env = ShapeEnv()
    with FakeTensorMode(shape_env=env):
        u = env.create_unbacked_symint()
        torch._check(u >= 1)
        q = torch.empty(2, 4, u, 64, dtype=torch.float16, device="meta")
        out = fmha(q, q, q, 0.125)
        assert out.shape[:2] == (2, 4) and out.shape[3] == 64, out.shape
        assert str(out.shape[2].node.expr) == str(u.node.expr), (out.shape, u)
        out, l, m = plugingen(q, q, q, 0.125, 4)
        assert str(l.shape[2].node.expr) == str(u.node.expr) and l.dtype == torch.float32, l.shape


@case
def torch_compile_fullgraph_traces_through_the_op():
    graphs = []

    def capture(gm, example_inputs):  # a backend that records the graph; nothing runs on a GPU
        graphs.append(gm)
        return lambda *args: (torch.zeros(1),)

    def f(q, k, v):
        return fmha(q, k, v, 0.125) * 2

    q = torch.randn(2, 4, 80, 64, dtype=torch.float16)
    torch._dynamo.reset()
    # fullgraph=True raises at a graph break; one graph holds the whole function.
    torch.compile(f, fullgraph=True, dynamic=True, backend=capture)(q, q.clone(), q.clone())
    assert len(graphs) == 1, graphs
    calls = [n for n in graphs[0].graph.nodes if n.op == "call_function" and "tritonpack_fmha" in str(n.target)]
    assert len(calls) == 1, graphs[0].graph
    val = calls[0].meta["example_value"]
    assert any(isinstance(s, torch.SymInt) for s in val.shape), val.shape  # dynamic sizes flowed through


@case
def torch_export_with_a_dynamic_sequence_length():
    class Attention(torch.nn.Module):
        def forward(self, q, k, v):
            return fmha(q, k, v, 0.125), plugingen(q, k, v, 0.125, 4)[1]

    S = torch.export.Dim("S", min=2, max=8192)
    args = (meta(2, 4, 80, 64), meta(2, 4, 80, 64), meta(2, 4, 80, 64))
    ep = torch.export.export(Attention(), args, dynamic_shapes=({2: S}, {2: S}, {2: S}), strict=False)
    out_node = next(n for n in ep.graph.nodes if n.op == "output")
    out, l = (a.meta["val"] for a in out_node.args[0])
    q_val = next(n for n in ep.graph.nodes if n.op == "placeholder").meta["val"]
    assert str(out.shape[2]) == str(q_val.shape[2]) and isinstance(out.shape[2], torch.SymInt), (out.shape, q_val.shape)
    assert str(l.shape[2]) == str(q_val.shape[2]), l.shape
    ops = {str(n.target) for n in ep.graph.nodes if n.op == "call_function"}
    assert "tritonpack.tritonpack_fmha.default" in ops and "tritonpack.fused_attention_kernel.default" in ops, ops


fp8_names = tritonpack.load(pack("attention_fp8_vt"))
fp8 = torch.ops.tritonpack.tritonpack_attention_fp8_vt


@case
def a_dtype_field_chooses_the_output_dtype():
    # TO: the output's type variable, bound by no input, is an optional ScalarType (None: fp16,
    # the spec's first).
    assert fp8_names == ["tritonpack::tritonpack_attention_fp8_vt"], fp8_names
    assert str(fp8.default._schema) == (
        "tritonpack::tritonpack_attention_fp8_vt(Tensor Q, Tensor K, Tensor V, float sm_scale, int causal, "
        "ScalarType? TO=None) -> (Tensor, Tensor)"), fp8.default._schema
    q = meta(2, 4, 256, 64, dtype=torch.float8_e4m3fn)
    vt = meta(2, 4, 64, 256, dtype=torch.float8_e4m3fn)
    o, lse = fp8(q, q, vt, 0.125, 1)
    assert o.dtype == torch.float16 and tuple(o.shape) == (2, 4, 256, 64), (o.dtype, o.shape)
    assert lse.dtype == torch.float32 and tuple(lse.shape) == (2, 4, 256), (lse.dtype, lse.shape)
    o, _ = fp8(q, q, vt, 0.125, 1, TO=torch.bfloat16)
    assert o.dtype == torch.bfloat16, o.dtype
    o, _ = fp8(q, q, vt, 0.125, 0, torch.bfloat16)  # positional
    assert o.dtype == torch.bfloat16, o.dtype
    o, _ = fp8(q, q, vt, 0.125, 0, None)
    assert o.dtype == torch.float16, o.dtype
    raises(r"dtype field 'TO' of plugin 'tritonpack_attention_fp8_vt' is fp32 \(2\), not one of its dtypes: "
           r"fp16 \(0\), bf16 \(1\)", fp8, q, q, vt, 0.125, 1, TO=torch.float32)
    raises(r"dtype field 'TO' of plugin 'tritonpack_attention_fp8_vt' is ComplexFloat, which no tritonpack kernel "
           r"takes; it takes fp16, bf16", fp8, q, q, vt, 0.125, 1, TO=torch.complex64)

    # Traced: the choice reaches the graph's output dtype.
    graphs = []

    def capture(gm, example_inputs):
        graphs.append(gm)
        return lambda *args: (torch.zeros(1),)

    def f(q, k, v):
        o, _ = fp8(q, k, v, 0.125, 1, TO=torch.bfloat16)
        return o

    qc = torch.empty(2, 4, 128, 64, dtype=torch.float8_e4m3fn)
    vc = torch.empty(2, 4, 64, 128, dtype=torch.float8_e4m3fn)
    torch._dynamo.reset()
    torch.compile(f, fullgraph=True, backend=capture)(qc, qc.clone(), vc)
    calls = [n for n in graphs[0].graph.nodes if n.op == "call_function" and "attention_fp8_vt" in str(n.target)]
    assert len(calls) == 1, graphs[0].graph
    assert calls[0].meta["example_value"][0].dtype == torch.bfloat16, calls[0].meta["example_value"]


finish()
