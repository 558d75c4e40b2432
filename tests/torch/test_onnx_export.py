"""ONNX export of tritonpack ops without a GPU (ctest torch_onnx_export, docs/torch.md "ONNX"):
torch.onnx.export(dynamo=True) with tritonpack.onnx_translations() traces with fake tensors (the
ops' Meta kernels) and writes each op as the node TensorRT's ONNX parser builds the same kernel's
plugin from: domain and plugin_namespace = the plugin's namespace, op_type = its name,
plugin_version, and the fields as typed attributes. Checked with onnx: the node, its attributes'
names, types and values, its inputs and its outputs' dtypes and shapes (a symbolic sequence
length), and onnx.checker on the model.

Environment as tests/torch/test_ops_meta.py. Exit 0 if every check passes, 1 if not, 77 when onnx
or onnxscript is missing (skipped).
"""

import os
import sys
import tempfile
import warnings

try:
    import onnx
    import onnxscript  # noqa: F401  (torch.onnx.export(dynamo=True) needs it)
except ImportError as e:
    print(f"SKIPPED: {e} (pip install onnx onnxscript)")
    sys.exit(77)

import torch

import tritonpack
from _cases import case, finish

PACKS = os.environ["TRITONPACK_TORCH_TEST_PACKS"]
warnings.filterwarnings("ignore")




tritonpack.load(os.path.join(PACKS, "fmha.tpack"))
tritonpack.load(os.path.join(PACKS, "fmha_plugingen.tpack"))
A = onnx.AttributeProto


def attributes(node):
    return {a.name: (a.type, onnx.helper.get_attribute_value(a)) for a in node.attribute}


def shape(value_info):
    t = value_info.type.tensor_type
    return t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]


def export(model, args, dynamic_shapes):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "model.onnx")
        torch.onnx.export(model, args, path, dynamo=True, dynamic_shapes=dynamic_shapes,
                          custom_translation_table=tritonpack.onnx_translations(), verbose=False)
        model_proto = onnx.load(path)
    onnx.checker.check_model(model_proto)
    return model_proto


class Attention(torch.nn.Module):
    def forward(self, q, k, v):
        return torch.ops.tritonpack.tritonpack_fmha(q, k, v, 0.125)


class PluginGen(torch.nn.Module):
    def forward(self, q, k, v):
        out, l, m = torch.ops.tritonpack.fused_attention_kernel(q, k, v, 0.5, 4)
        return out, l, m


def qkv(dtype=torch.float16):
    return tuple(torch.empty(2, 4, 80, 64, dtype=dtype, device="meta") for _ in range(3))


S = torch.export.Dim("S", min=2, max=8192)
DYNAMIC = ({2: S}, {2: S}, {2: S})


@case
def the_description_comes_from_the_op_library():
    spec = tritonpack._onnx.node_spec("tritonpack::tritonpack_fmha")
    assert (spec.op_type, spec.domain, spec.version, spec.kernel) == ("tritonpack_fmha", "tritonpack", "1", "fmha"), spec
    assert spec.inputs == ("Q", "K", "V") and spec.num_outputs == 1, spec
    assert spec.fields == (("sm_scale", "fp32"),), spec
    other = tritonpack._onnx.node_spec("fused_attention_kernel")
    assert [d for _, d in other.fields] == ["fp32", "i32"] and other.num_outputs == 3, other
    assert set(tritonpack.onnx_translations()) == {torch.ops.tritonpack.tritonpack_fmha.default,
                                                   torch.ops.tritonpack.fused_attention_kernel.default}


@case
def fmha_becomes_the_tensorrt_plugin_node():
    m = export(Attention(), qkv(), DYNAMIC)
    nodes = [n for n in m.graph.node if n.domain == "tritonpack"]
    assert len(nodes) == 1 and len(m.graph.node) == 1, [(n.domain, n.op_type) for n in m.graph.node]
    node = nodes[0]
    assert node.op_type == "tritonpack_fmha", node
    assert attributes(node) == {"plugin_version": (A.STRING, b"1"), "plugin_namespace": (A.STRING, b"tritonpack"),
                                "sm_scale": (A.FLOAT, 0.125)}, attributes(node)
    assert list(node.input) == [i.name for i in m.graph.input], (node.input, m.graph.input)
    assert {o.domain: o.version for o in m.opset_import}.get("tritonpack") == 1, m.opset_import
    (out,) = m.graph.output
    assert out.name == node.output[0]
    dtype, dims = shape(out)
    assert dtype == onnx.TensorProto.FLOAT16 and dims[:2] == [2, 4] and dims[3] == 64, (dtype, dims)
    assert isinstance(dims[2], str) and dims[2] == shape(m.graph.input[0])[1][2], (dims, m.graph.input)


@case
def bf16_inputs():
    m = export(Attention(), qkv(torch.bfloat16), DYNAMIC)
    assert shape(m.graph.output[0])[0] == onnx.TensorProto.BFLOAT16, m.graph.output


@case
def an_integer_field_and_three_outputs():
    m = export(PluginGen(), qkv(), DYNAMIC)
    (node,) = [n for n in m.graph.node if n.domain == "tritonpack"]
    assert node.op_type == "fused_attention_kernel", node
    # PluginGen's spec (tests/plugingen/fmha_expected.toml) says version "0".
    assert attributes(node) == {"plugin_version": (A.STRING, b"0"), "plugin_namespace": (A.STRING, b"tritonpack"),
                                "sm_scale": (A.FLOAT, 0.5), "num_heads": (A.INT, 4)}, attributes(node)
    assert len(node.output) == 3
    types = {v.name: shape(v) for v in list(m.graph.output) + list(m.graph.value_info)}
    seq = shape(m.graph.input[0])[1][2]
    assert types[node.output[0]] == (onnx.TensorProto.FLOAT16, [2, 4, seq, 64]), types
    for o in node.output[1:]:
        assert types[o][0] == onnx.TensorProto.FLOAT and types[o][1][2] == seq, types[o]


@case
def an_attention_block_exports_projections_and_the_node():
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "examples", "torch"))
    from attention_model import AttentionBlock
    block = AttentionBlock(num_heads=4, head_size=64, dtype=torch.float16, device="cpu").eval()
    x = torch.randn(2, 80, 256, dtype=torch.float16)
    m = export(block, (x,), ({1: S},))
    ops = [(n.domain, n.op_type) for n in m.graph.node]
    assert ops.count(("tritonpack", "tritonpack_fmha")) == 1, ops
    (node,) = [n for n in m.graph.node if n.domain == "tritonpack"]
    assert attributes(node)["sm_scale"] == (A.FLOAT, 0.125), attributes(node)
    dims = shape(m.graph.output[0])[1]
    assert dims[0] == 2 and isinstance(dims[1], str) and dims[2] == 256, dims


@case
def a_dtype_field_becomes_an_int_attribute():
    # The FP8 attention's TO (its output dtype, bound by no input): the attribute holds the
    # tritonpack DType code the TensorRT creator's int32 field takes (fp16 0, bf16 1).
    tritonpack.load(os.path.join(PACKS, "attention_fp8_vt.tpack"))
    spec = tritonpack._onnx.node_spec("tritonpack_attention_fp8_vt")
    assert spec.fields == (("sm_scale", "fp32"), ("causal", "i32"), ("TO", "dtype")), spec.fields
    assert spec.choices == (("TO", (("fp16", 0), ("bf16", 1))),), spec.choices

    class Fp8(torch.nn.Module):
        def __init__(self, to):
            super().__init__()
            self.to_ = to

        def forward(self, q, k, vt):
            if self.to_ is None:
                o, _ = torch.ops.tritonpack.tritonpack_attention_fp8_vt(q, k, vt, 0.125, 1)
            else:
                o, _ = torch.ops.tritonpack.tritonpack_attention_fp8_vt(q, k, vt, 0.125, 1, self.to_)
            return o

    q = torch.empty(2, 4, 128, 64, dtype=torch.float8_e4m3fn, device="meta")
    vt = torch.empty(2, 4, 64, 128, dtype=torch.float8_e4m3fn, device="meta")
    for to, code, elem in ((torch.bfloat16, 1, onnx.TensorProto.BFLOAT16), (None, 0, onnx.TensorProto.FLOAT16),
                           (torch.float16, 0, onnx.TensorProto.FLOAT16)):
        model = export(Fp8(to), (q, q, vt), None)
        nodes = [n for n in model.graph.node if n.op_type == "tritonpack_attention_fp8_vt"]
        assert len(nodes) == 1, model.graph.node
        assert attributes(nodes[0])["TO"] == (A.INT, code), attributes(nodes[0])
        assert model.graph.output[0].type.tensor_type.elem_type == elem, model.graph.output[0]
    try:
        export(Fp8(torch.float32), (q, q, vt), None)
    except Exception as e:  # the core refuses it first (the op's meta kernel), or the translation
        assert "TO" in str(e) and ("not one of its dtypes" in str(e) or "it takes fp16, bf16" in str(e)), str(e)[-2000:]
    else:
        raise AssertionError("fp32 for TO was exported")

    # The translation itself (the exporter passes ONNX element types by name): a code for each
    # dtype the field takes, a refusal naming them for anything else.
    class Onnx:
        def __init__(self, name):
            self.name = name

    assert spec.attributes((0.125, 1, Onnx("BFLOAT16")))["TO"] == 1
    assert spec.attributes((0.125, 1, None))["TO"] == 0
    for value, shown in ((Onnx("FLOAT"), "FLOAT"), (torch.float16, "torch.float16")):
        try:
            spec.attributes((0.125, 1, value))
        except ValueError as e:
            want = (f"tritonpack::tritonpack_attention_fp8_vt: dtype field TO is {shown}, not the ONNX element type "
                    "of one of its dtypes: FLOAT16 (fp16), BFLOAT16 (bf16)")
            assert str(e) == want, str(e)
        else:
            raise AssertionError(f"{shown} for TO was translated")

finish()
