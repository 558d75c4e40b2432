"""torch.export + AOTInductor packaging of tritonpack ops without a GPU (ctest torch_aoti_package,
docs/torch.md): a model calling the ops on CPU tensors is exported with a dynamic sequence length,
compiled by AOTInductor for the CPU (g++ here) into a .pt2 and loaded; the package's extern-kernel
description names the op with its arguments (floats, ints, tuple returns), and running it reaches
the op through AOTInductor's proxy executor and the dispatcher, which answers that the op has no
CPU kernel (tritonpack ops run on CUDA). That proves the schema serializes and the ops are found at
run time; the CUDA run is examples/torch's aoti_run on the GPU machine (scripts/gpu-check-torch.sh).

Environment as tests/torch/test_ops_meta.py. Exit 0 if every check passes, 1 if not.
"""

import json
import os
import sys
import tempfile
import warnings
import zipfile

import torch

import tritonpack
from _cases import case, finish

PACKS = os.environ["TRITONPACK_TORCH_TEST_PACKS"]
warnings.filterwarnings("ignore")
tritonpack.load(os.path.join(PACKS, "fmha.tpack"))
tritonpack.load(os.path.join(PACKS, "fmha_plugingen.tpack"))




class Model(torch.nn.Module):
    def forward(self, q, k, v):
        out = torch.ops.tritonpack.tritonpack_fmha(q, k, v, 0.125)
        out2, l, m = torch.ops.tritonpack.fused_attention_kernel(q, k, v, 0.5, 4)
        return out * 2 + out2, l + m


def extern_nodes(pt2):
    with zipfile.ZipFile(pt2) as z:
        (name,) = [n for n in z.namelist() if n.endswith(".wrapper.json") or
                   (n.endswith(".json") and "aotinductor" in n and "metadata" not in n)]
        return json.loads(z.read(name))["nodes"]


@case
def package_load_and_call_through_the_proxy_executor():
    S = torch.export.Dim("S", min=16, max=4096)
    q, k, v = (torch.randn(2, 4, 80, 64, dtype=torch.float16) for _ in range(3))
    ep = torch.export.export(Model(), (q, k, v), dynamic_shapes=({2: S},) * 3, strict=False)
    with tempfile.TemporaryDirectory() as tmp:
        pt2 = torch._inductor.aoti_compile_and_package(ep, package_path=os.path.join(tmp, "model.pt2"))
        nodes = {n["node"]["target"]: n["node"] for n in extern_nodes(pt2)}
        assert set(nodes) == {"tritonpack::tritonpack_fmha", "tritonpack::fused_attention_kernel"}, nodes
        fmha = nodes["tritonpack::tritonpack_fmha"]
        assert [i["name"] for i in fmha["inputs"]] == ["Q", "K", "V", "sm_scale"], fmha
        assert fmha["inputs"][3]["arg"] == {"as_float": 0.125}, fmha
        pg = nodes["tritonpack::fused_attention_kernel"]
        assert pg["inputs"][4]["arg"] == {"as_int": 4}, pg
        assert len(pg["outputs"]) == 3, pg
        runner = torch._inductor.aoti_load_package(pt2)
        try:
            runner(q, k, v)
        except Exception as e:  # the proxy executor reached the op; it has no CPU kernel
            pass
        else:
            raise AssertionError("the CPU run of a tritonpack op did not fail")


finish()
