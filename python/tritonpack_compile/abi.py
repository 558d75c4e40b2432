"""The kernel ABI check: the PTX entry's parameter list against our argument table.

The runtime packs each argument in its storage type (ptr: 8 bytes, i32: 4, fp32: 4,
fp16/bf16: 2, ...) followed by two hidden pointers (global and profile scratch). If
Triton ever lays out a parameter differently (Triton issue #7439: fp32 scalars
declared as double by its AOT tool), the kernel would read garbage silently. So
every compiled kernel's `.entry` is read back and compared; a mismatch fails the job.
No Triton import here: this works on text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

HIDDEN_PARAMS = ("global_scratch", "profile_scratch")

# Bytes each argument takes in the runtime's packed argument buffer.
STORAGE_BYTES = {"ptr": 8, "i32": 4, "i64": 8, "fp32": 4, "fp16": 2, "bf16": 2}

# The PTX fundamental types each storage type may be declared as. Byte arrays (.b8[n])
# are accepted for any type whose size they match: that is how Triton 3.6 declares
# fp16 and bf16 scalars (`.param .align 2 .b8 name[2]`).
_ALLOWED_PTX = {
    "ptr": {"u64", "b64", "s64"},
    "i32": {"u32", "s32", "b32"},
    "i64": {"u64", "s64", "b64"},
    "fp32": {"f32", "b32", "u32"},
    "fp16": {"f16", "b16", "u16", "s16"},
    "bf16": {"bf16", "b16", "u16", "s16"},
}
_HIDDEN_ALLOWED = {"u64", "b64", "s64"}

_PTX_TYPE_BYTES = {
    "b8": 1, "s8": 1, "u8": 1,
    "b16": 2, "s16": 2, "u16": 2, "f16": 2, "bf16": 2,
    "b32": 4, "s32": 4, "u32": 4, "f32": 4, "f16x2": 4, "bf16x2": 4,
    "b64": 8, "s64": 8, "u64": 8, "f64": 8,
    "b128": 16,
}


class AbiError(Exception):
    """The PTX does not match the argument table, or cannot be read."""


@dataclass(frozen=True)
class PtxParam:
    type: str  # fundamental type without the dot: "u64", "f32", "b8"
    count: int  # array length; 1 for a plain parameter
    name: str

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
    if tokens[:1] != [".param"] or not name or len(types) != 1:
        raise AbiError(f"cannot read the PTX parameter declaration {' '.join(tokens)!r} of .entry {entry}")
    return PtxParam(types[0], int(name.group("count") or 1), name.group("name"))


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


def _expected_text(args: list[tuple[str, str]]) -> str:
    items = [f"{name}:{t}({STORAGE_BYTES[t]}B)" for name, t in args]
    items += [f"{h}:ptr(8B)" for h in HIDDEN_PARAMS]
    return "[" + ", ".join(items) + "]"


def check(args: list[tuple[str, str]], params: list[PtxParam], entry: str) -> None:
    """Raises AbiError unless `params` are `args` (name, storage type) plus the hidden pointers."""
    problems = []
    want = len(args) + len(HIDDEN_PARAMS)
    if len(params) != want:
        problems.append(f"the PTX declares {len(params)} parameters, the argument table needs {len(args)} "
                        f"+ {len(HIDDEN_PARAMS)} hidden = {want}")
    else:
        for i, ((name, t), p) in enumerate(zip(args, params)):
            size_ok = p.size == STORAGE_BYTES[t]
            type_ok = p.type in _ALLOWED_PTX[t] or (p.count > 1 and p.type == "b8")
            if not (size_ok and type_ok):
                problems.append(f"parameter {i} ({name}: {t}, {STORAGE_BYTES[t]} bytes) is declared .{p} "
                                f"({p.size} bytes)")
        for i, (h, p) in enumerate(zip(HIDDEN_PARAMS, params[len(args):]), start=len(args)):
            if p.type not in _HIDDEN_ALLOWED or p.count != 1:
                problems.append(f"hidden parameter {i} ({h}) is declared .{p}, expected a 64-bit pointer")
    if problems:
        raise AbiError(f"kernel ABI mismatch in .entry {entry}: " + "; ".join(problems)
                       + f"\n  argument table: {_expected_text(args)}"
                       + f"\n  PTX parameters: [{', '.join(str(p) for p in params)}]")
