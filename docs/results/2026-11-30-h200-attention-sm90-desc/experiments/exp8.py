"""Experiment 8 (sm_90, Gluon JIT; ran in the eighth session, results in ../../2026-11-30-h200-attention-sm90-pconv/run8): P
carried across the key loop in fp32 (now the shipped kernel's descending path).

In the SASS of the shipped kernel (ptxas 13.0, D 64 causal, 128-key blocks), the loop of the
tile that runs first has 32 PRMT instructions (swapping the 16-bit halves of each P register
before the P V wgmma) and the loop that runs second has 64. Ascending (`ws`), the second loop is
the masked one; descending (`ws_desc`), it is the unmasked one, which long rows spend their time
in: 552 instructions against 519, likely the 1-9% that `ws_desc` loses from 4096 keys up. `pconv`
keeps P in fp32 between steps and converts it to the wgmma operand (dtype, then the dot-operand
layout) just before the P V product, instead of at the end of the softmax. Compiled, every PRMT
is gone: the unmasked loop is 487 instructions ascending and 488 descending at D 64 (562 and 600
before at D 128, now 530 and 536). Over the whole pack (128 variants, compiled here), ptxas
reports spills in 56 variants against 32 before, up to 136/184 bytes stored/loaded at D 128
causal with 128-key blocks (52/88 before). In the SASS, the key loops have no spill instruction
except at D 128 causal with 128-key blocks in key order: 2 in the masked loop, and about 9 in
per-tile code. Counts from sass_loops.py on packs of the kernel with and without PCONV.
  asc, desc:            the kernel at 3a91b86, DESCENDING off / on.
  pconv, pconvdesc:     with P converted at its use.
Usage: as exp.py (bench/sm90_variants.py); run8.sh runs it.
"""
import os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = HERE
while not os.path.isdir(os.path.join(ROOT, "kernels", "attention")) and os.path.dirname(ROOT) != ROOT:
    ROOT = os.path.dirname(ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, HERE)
# The kernel as run8 ran it (3a91b86; the shipped kernel now converts P at its use when
# descending, so PCONV no longer applies to it): written from git on first use, so run this once
# where the repository's .git is before copying the folder elsewhere.
SRC = os.path.join(HERE, "attn_3a91b86.py")

PCONV = [("""    l_i = l_i * alpha + gl.sum(p, 1)
    p_op = gl.convert_layout(p.to(dtype), p_layout)
    return p_op, alpha, m_new, l_i""", """    l_i = l_i * alpha + gl.sum(p, 1)
    return p, alpha, m_new, l_i"""),
         ("""    acc_tok = warpgroup_mma(p_op, v_bufs.index(prev), acc, is_async=True)""",
          """    acc_tok = warpgroup_mma(gl.convert_layout(p_op.to(dtype), p_layout), v_bufs.index(prev), acc, is_async=True)"""),
         ("""                acc_tok = warpgroup_mma(p_op, v_bufs.index(last), acc, is_async=True)""",
          """                acc_tok = warpgroup_mma(gl.convert_layout(p_op.to(dtype), p_layout), v_bufs.index(last), acc,
                                        is_async=True)""")]
# name: (text edits to the kernel, DESCENDING)
VARIANTS = {"asc": ([], False), "desc": ([], True), "pconv": (PCONV, False), "pconvdesc": (PCONV, True)}
CFGS = {f"{v}{n}": (v, n) for v in VARIANTS for n in (64, 128)}


def module(edits):
    """The kernel at 3a91b86 with the edits, written next to this file as attn_asc.py or attn_pconv.py."""
    import sm90_variants
    if not os.path.exists(SRC):
        src = subprocess.run(["git", "show", "3a91b86:kernels/attention/attention_sm90.py"], cwd=ROOT, check=True,
                             capture_output=True, text=True).stdout
        open(SRC, "w").write(src)
    return sm90_variants.variant_module(HERE, "pconv" if edits else "asc",
                                        sm90_variants.edited(open(SRC).read(), edits))


def mk(name, q, k, v, o, lse, scale, causal, programs=None, bshd=False):
    import torch
    from attention_sm90_jit import launcher
    variant, bn = CFGS[name]
    edits, descending = VARIANTS[variant]
    if programs is None:
        programs = torch.cuda.get_device_properties(0).multi_processor_count
    return launcher(module(edits), q, k, v, o, lse, scale, causal, programs, bn, bshd, descending=descending)


if __name__ == "__main__":
    import sm90_variants
    sm90_variants.main(mk, __file__)
