"""The attention block of the PyTorch examples (docs/torch.md): q/k/v projections, causal attention,
output projection; the attention is tritonpack's op (torch.ops.tritonpack.tritonpack_fmha from
kernels/fmha/fmha.toml) or PyTorch's scaled_dot_product_attention, with the same weights.

Input x [batch, seq, num_heads * head_size]; output the same shape. The op takes [B, H, S, D].
"""

from __future__ import annotations

import math

import torch


class AttentionBlock(torch.nn.Module):
    def __init__(self, num_heads: int, head_size: int, dtype=torch.float16, device="cuda", use_tritonpack=True):
        super().__init__()
        self.num_heads, self.head_size, self.use_tritonpack = num_heads, head_size, use_tritonpack
        hidden = num_heads * head_size
        self.qkv = torch.nn.Linear(hidden, 3 * hidden, bias=False, dtype=dtype, device=device)
        self.out = torch.nn.Linear(hidden, hidden, bias=False, dtype=dtype, device=device)
        self.sm_scale = 1.0 / math.sqrt(head_size)
        # Inference only: tritonpack ops have no backward and refuse inputs that require grad
        # (docs/torch.md), which the projections' outputs would while tracing for export.
        self.requires_grad_(False)

    def attention(self, q, k, v):
        if self.use_tritonpack:
            return torch.ops.tritonpack.tritonpack_fmha(q, k, v, self.sm_scale)
        return torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, scale=self.sm_scale)

    def forward(self, x):
        batch, seq, hidden = x.shape
        # [B, S, 3, H, D] -> three [B, H, S, D], contiguous (the op refuses strided inputs).
        qkv = self.qkv(x).view(batch, seq, 3, self.num_heads, self.head_size).permute(2, 0, 3, 1, 4)
        q, k, v = (t.contiguous() for t in qkv.unbind(0))
        o = self.attention(q, k, v)
        return self.out(o.transpose(1, 2).reshape(batch, seq, hidden))


def sdpa_reference(block: AttentionBlock, x: torch.Tensor) -> torch.Tensor:
    """The same block with PyTorch's attention, computed in float64 (the reference the examples and
    tests compare against)."""
    ref = AttentionBlock(block.num_heads, block.head_size, dtype=torch.float64, device=x.device, use_tritonpack=False)
    ref.load_state_dict({k: v.double() for k, v in block.state_dict().items()})
    with torch.no_grad():
        return ref(x.double())
