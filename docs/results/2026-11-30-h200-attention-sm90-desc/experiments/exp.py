"""Experiment (sm_90, Gluon JIT): key blocks in descending order in kernels/attention/attention_sm90.py.

The kernel at d439401 (which the patches and edits here are against; module() writes it as
attn_head.py from the repository's history, so run it once where git is before copying the folder
to a machine without the repository's .git) reads a tile's key blocks from the first up and masks the first block of every
tile (it is the one without a P V product in flight) besides the blocks on the diagonal or past
seq_kv: about 20% of the blocks of D 64 causal S 1024 at 64-key blocks, 40% at 128. Reading them
from the last down (attn_desc.patch: the producer's ring runs over blocks n - 1, ..., 0, and the
blocks of a tile that a warpgroup's rows do not reach come first, released unread) puts the
masked blocks first, so the first block is one of them and the loop ends on unmasked blocks: one
masked block a warpgroup a tile when seq_q == seq_kv.
  base:      attn_head.py as it is.
  desc:      attn_desc.patch.
  cheapmask: the mask as one comparison a score with a per-row limit (previous session's variant).
  descc:     desc and cheapmask.
  descs:     desc, cheapmask and swap (the second tile of a causal pair swaps the warpgroups'
             query halves).
  head:      base (run7's name for it).
  ship:      the candidate kernel (attn_ship.patch): causal tiles read their key blocks from the
             last down, with the one-compare mask; other tiles from 0 up, as before.
  mix:       ship, but only a tile's top blocks (those that need the mask for some row, or that the
             first warpgroup's rows do not reach) come first, from the last down; then blocks 0,
             1, ... up, so programs sweep most of K and V in head's order (attn_mix.patch).
Usage: as ../../2026-11-30-h200-attention-sm90-short-causal/experiments/exp.py (bench/sm90_variants.py);
run6.sh and run7.sh ran it (run7 through a copy, exp2.py, that imported attn_ship.py and
attn_mix.py as written; they are the patches here).
"""
import importlib.util, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PREV = os.path.join(HERE, "..", "..", "2026-11-30-h200-attention-sm90-short-causal", "experiments", "exp.py")
_spec = importlib.util.spec_from_file_location("exp_short_causal", PREV)
prev = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(prev)  # its ROOT, CHEAPMASK and SWAP
sys.path.insert(0, os.path.join(prev.ROOT, "bench"))
sys.path.insert(0, HERE)
SRC = os.path.join(HERE, "attn_head.py")  # the kernel at d439401 (git show; written on first use)

# name: (patch file or None, text edits after it)
VARIANTS = {
    "base": (None, []),
    "desc": ("attn_desc.patch", []),
    "cheapmask": (None, prev.CHEAPMASK),
    "descc": ("attn_desc.patch", prev.CHEAPMASK),
    "descs": ("attn_desc.patch", prev.CHEAPMASK + prev.SWAP),
    # run7: the kernel as it was, the candidate the pack run verified, and a middle way.
    "head": (None, []),
    "ship": ("attn_ship.patch", []),
    "mix": ("attn_mix.patch", []),
}
CFGS = {f"{v}{n}": (v, n) for v in VARIANTS for n in (64, 128)}


def module(variant):
    """The variant's kernel module, written next to this file as attn_<variant>.py."""
    import sm90_variants
    if not os.path.exists(SRC):  # the base kernel, from the repository's history
        src = subprocess.run(["git", "show", "d439401:kernels/attention/attention_sm90.py"], cwd=prev.ROOT,
                             check=True, capture_output=True, text=True).stdout
        open(SRC, "w").write(src)
    patch, edits = VARIANTS[variant]
    src = sm90_variants.patched(SRC, os.path.join(HERE, patch)) if patch else open(SRC).read()
    return sm90_variants.variant_module(HERE, variant, sm90_variants.edited(src, edits))


if __name__ == "__main__":
    import sm90_variants
    sm90_variants.main(sm90_variants.launch_maker(module, CFGS), __file__)
