"""The kernel ABI check: the PTX entry's parameter list against our argument table.

The runtime packs each argument in its storage type (ptr: 8 bytes, i32: 4, fp32: 4,
fp16/bf16: 2, ...) followed by two hidden pointers (global and profile scratch). If
Triton ever lays out a parameter differently (Triton issue #7439: fp32 scalars
declared as double by its AOT tool), the kernel would read garbage silently. So
every compiled kernel's `.entry` is read back and compared; a mismatch fails the job.
A tensor descriptor argument is not one parameter but several (see `expand`).
No Triton import here: this works on text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HIDDEN_PARAMS = ("global_scratch", "profile_scratch")

# Bytes each slot takes in the runtime's packed argument buffer. `i1` and `tensormap`
# only occur inside a tensor descriptor's expansion.
STORAGE_BYTES = {"ptr": 8, "i32": 4, "i64": 8, "fp32": 4, "fp16": 2, "bf16": 2, "i1": 1, "tensormap": 128}

# A CUtensorMap is passed by value and must be 64-byte aligned (cuTensorMapEncodeTiled's rule).
TENSORMAP_ALIGN = 64

# The PTX fundamental types each storage type may be declared as. Byte arrays (.b8[n])
# are accepted for any type whose size they match: that is how Triton 3.6 declares
# fp16 and bf16 scalars (`.param .align 2 .b8 name[2]`) and the CUtensorMap
# (`.param .align 64 .b8 name[128]`).
_ALLOWED_PTX = {
    "ptr": {"u64", "b64", "s64"},
    "i32": {"u32", "s32", "b32"},
    "i64": {"u64", "s64", "b64"},
    "fp32": {"f32", "b32", "u32"},
    "fp16": {"f16", "b16", "u16", "s16"},
    "bf16": {"bf16", "b16", "u16", "s16"},
    "i1": {"u8", "s8", "b8"},
    "tensormap": set(),  # only .b8[128]
}
_HIDDEN_ALLOWED = {"u64", "b64", "s64"}

_PTX_TYPE_BYTES = {
    "b8": 1, "s8": 1, "u8": 1,
    "b16": 2, "s16": 2, "u16": 2, "f16": 2, "bf16": 2,
    "b32": 4, "s32": 4, "u32": 4, "f32": 4, "f16x2": 4, "bf16x2": 4,
    "b64": 8, "s64": 8, "u64": 8, "f64": 8,
    "b128": 16,
}


@dataclass(frozen=True)
class Arg:
    """A runtime argument of the kernel, as meta.json's `args` lists it."""
    name: str
    type: str  # ptr, i32, i64, fp32, fp16, bf16, or tensordesc
    ndim: int = 0  # tensordesc only
    tma: bool = False  # tensordesc only: Triton lowered it to a TMA descriptor (a CUtensorMap)

    def to_json(self) -> dict:
        if self.type != "tensordesc":
            return {"name": self.name, "type": self.type}
        return {"name": self.name, "type": "tensordesc", "ndim": self.ndim, "tma": self.tma}


@dataclass(frozen=True)
class Slot:
    """One kernel parameter the runtime packs: a whole argument, or one piece of a descriptor."""
    label: str  # "x_ptr", "a_desc.tensormap", "a_desc.shape[1]"
    type: str  # a key of STORAGE_BYTES
    hidden: bool = False  # one of Triton's scratch pointers appended after the arguments (HIDDEN_PARAMS)

    def __str__(self) -> str:
        return f"{self.label}:{self.type}({STORAGE_BYTES[self.type]}B)"


def _descriptor_slots(arg: Arg) -> list[Slot]:
    """What Triton 3.6's launcher passes for one tensor descriptor, in order.

    TMA: the CUtensorMap by value, then the global shape (i32) and strides (i64, in
    elements). Not TMA (sm_80, or a descriptor the compiler did not lower): base
    pointer, shape and strides as i64, a padding flag (1 = out-of-bounds reads give
    NaN), then shape (i32) and strides (i64) again.
    """
    name, dims = arg.name, range(arg.ndim)
    shape32 = [Slot(f"{name}.shape[{i}]", "i32") for i in dims]
    strides = [Slot(f"{name}.strides[{i}]", "i64") for i in dims]
    if arg.tma:
        return [Slot(f"{name}.tensormap", "tensormap"), *shape32, *strides]
    shape64 = [Slot(f"{name}.shape[{i}]", "i64") for i in dims]
    return [Slot(f"{name}.base", "ptr"), *shape64, *strides, Slot(f"{name}.padding_nan", "i1"), *shape32, *strides]


def expand(args: list[Arg]) -> list[Slot]:
    """The kernel's parameters for `args`, hidden pointers included: what the runtime packs."""
    slots: list[Slot] = []
    for arg in args:
        slots += _descriptor_slots(arg) if arg.type == "tensordesc" else [Slot(arg.name, arg.type)]
    return slots + [Slot(h, "ptr", hidden=True) for h in HIDDEN_PARAMS]


class AbiError(Exception):
    """The PTX does not match the argument table, or cannot be read."""


@dataclass(frozen=True)
class PtxParam:
    type: str  # fundamental type without the dot: "u64", "f32", "b8"
    count: int  # array length; 1 for a plain parameter
    name: str
    align: int | None = None  # the `.align N` of the declaration, if any

    @property
    def size(self) -> int:
        return _PTX_TYPE_BYTES[self.type] * self.count

    def __str__(self) -> str:
        """'u64', or 'b8[2]' for an array."""
        return self.type if self.count == 1 else f"{self.type}[{self.count}]"


_NAME_RE = re.compile(r"^(?P<name>[A-Za-z_$%][\w$]*)(?:\[(?P<count>\d+)\])?$")


def _parse_param(decl: str, entry: str) -> PtxParam:
    """'.param .u64 .ptr .global .align 1 k_param_0' or '.param .align 2 .b8 k_param_4[2]'."""
    tokens = decl.split()
    name = _NAME_RE.match(tokens[-1]) if len(tokens) >= 3 else None
    types = [t[1:] for t in tokens[1:-1] if t.startswith(".") and t[1:] in _PTX_TYPE_BYTES]
    aligns = [tokens[i + 1] for i, t in enumerate(tokens[:-2]) if t == ".align"]
    if (tokens[:1] != [".param"] or not name or len(types) != 1 or len(aligns) > 1
            or not all(a.isdigit() for a in aligns)):
        raise AbiError(f"cannot read the PTX parameter declaration {' '.join(tokens)!r} of .entry {entry}")
    return PtxParam(types[0], int(name.group("count") or 1), name.group("name"),
                    int(aligns[0]) if aligns else None)


def ptx_target(ptx: str) -> str:
    """The `.target` directive's first operand: 'sm_90a'."""
    m = re.search(r"^\s*\.target\s+([\w]+)", ptx, re.MULTILINE)
    if not m:
        raise AbiError("the PTX has no .target directive")
    return m.group(1)


def entry_params(ptx: str, entry: str) -> list[PtxParam]:
    """The parameters of `.entry <entry>(...)` in declaration order."""
    m = re.search(r"\.entry\s+" + re.escape(entry) + r"\s*\(([^)]*)\)", ptx)
    if not m:
        raise AbiError(f"the PTX has no .entry {entry}(...)")
    body = m.group(1).strip()
    if not body:
        return []
    params = [_parse_param(decl, entry) for decl in body.split(",")]
    return params


def _slot_problem(slot: Slot, p: PtxParam) -> str | None:
    """Why `p` cannot hold `slot`, or None when it can."""
    size = STORAGE_BYTES[slot.type]
    declared = f".{p}" + (f" .align {p.align}" if p.align else "") + f" ({p.size} bytes)"
    if slot.type == "tensormap":
        ok = p.type == "b8" and p.count == size and p.align == TENSORMAP_ALIGN
        want = f".align {TENSORMAP_ALIGN} .b8[{size}]"
    elif slot.hidden:
        ok = p.type in _HIDDEN_ALLOWED and p.count == 1
        want = "a 64-bit pointer"
    else:
        ok = p.size == size and (p.type in _ALLOWED_PTX[slot.type] or (p.count > 1 and p.type == "b8"))
        want = f"{size} bytes"
    return None if ok else f"({slot.label}: {slot.type}) is declared {declared}, expected {want}"


def check(args: list[Arg], params: list[PtxParam], entry: str) -> None:
    """Raises AbiError unless `params` are exactly `expand(args)`."""
    slots = expand(args)
    problems = []
    if len(params) != len(slots):
        descriptors = sum(a.type == "tensordesc" for a in args)
        pieces = f" (tensor descriptors expanded: {descriptors})" if descriptors else ""
        problems.append(f"the PTX declares {len(params)} parameters, the argument table needs "
                        f"{len(slots) - len(HIDDEN_PARAMS)}{pieces} + {len(HIDDEN_PARAMS)} hidden = {len(slots)}")
    else:
        for i, (slot, p) in enumerate(zip(slots, params)):
            problem = _slot_problem(slot, p)
            if problem:
                kind = "hidden parameter" if slot.hidden else "parameter"
                problems.append(f"{kind} {i} {problem}")
    if problems:
        raise AbiError(f"kernel ABI mismatch in .entry {entry}: " + "; ".join(problems)
                       + f"\n  argument table: [{', '.join(str(s) for s in slots)}]"
                       + f"\n  PTX parameters: [{', '.join(str(p) for p in params)}]")
