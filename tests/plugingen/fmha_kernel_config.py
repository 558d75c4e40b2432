"""A PluginGen kernel config for tritonpack's causal attention kernel (kernels/fmha/fmha.py).

Written the way TensorRT-LLM's PluginGen reads configs: a KERNELS list of KernelMetaData.
tests/python/test_plugingen_import.py converts it with `python3 -m tritonpack_plugingen` and
compares the result with fmha_expected.toml. Block sizes: BLOCK_M 128, BLOCK_DMODEL 64,
BLOCK_N 128 (80 KiB of shared memory on sm_90, 48 KiB on sm_80 with num_stages 2).
"""

import os

from tensorrt_llm.tools.plugin_gen.core import *

KERNEL_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "kernels", "fmha")


def fmha_kernel() -> KernelMetaData:
    return KernelMetaData(
        kernel_name="fused_attention_kernel",
        kernel_file=os.path.join(KERNEL_DIR, "fmha.py"),
        ios=[
            # Written by the kernel. Each hints list holds two entries: two specializations.
            OutputArg("Out", Type("tensor[fp16]"), hints=["16", "16"]),
            OutputArg("L", Type("tensor[fp32]"), hints=["16", "16"]),
            OutputArg("M", Type("tensor[fp32]"), hints=["16", "16"]),
            # Read by the kernel.
            InputArg("Q", Type("tensor[fp16]"), hints=["16", "16"]),
            InputArg("K", Type("tensor[fp16]"), hints=["16", "16"]),
            InputArg("V", Type("tensor[fp16]"), hints=["16", "16"]),
            # Plugin fields and sizes taken from Q's shape.
            ParamArg("sm_scale", Type("fp32")),
            DimSizeArg("batch_size"),
            ParamArg("num_heads", Type("i32")),
            DimSizeArg("seq_len", hints=["", "16"]),  # any length, then multiples of 16
            # BLOCK_M, BLOCK_DMODEL, BLOCK_N
            Constexpr(128),
            Constexpr(64),
            Constexpr(128),
        ],
        shape_infer_rules=[
            # Output shapes from the input's.
            "Q[*] -> Out[*]",
            "Q[m,n,k,*] -> L[m,n,k]",
            "Q[m,n,k,*] -> M[m,n,k]",
            # The dimension-size arguments.
            "Q[m,n,k,*] : m -> batch_size",
            "Q[m,n,k,*] : k -> seq_len",
        ],
        version=0,
        num_warps=4,
        num_stages=2,
        grid_dims=("(seq_len + 127) / 128", "batch_size * num_heads", "1"),
    )


KERNELS = [
    fmha_kernel(),
]
