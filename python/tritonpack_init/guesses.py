"""The guesses init makes for what a signature does not say, each with the question it leaves.

Every function returns a Guess: the value written into the spec and, when it is a guess, the text
of its `# DECIDE:` comment, which says what to check and what to write instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tritonpack_common.dtypes import DTYPES, SCALAR_TYPES, from_triton_name
from tritonpack_init.signature import Param
from tritonpack_init.usage import Usage

TYPE_VAR = "T"
DEFAULT_TYPES = ["fp16"]
PLACEHOLDER_INT = 64  # a power of two: valid for tl.arange, large enough for tl.dot, small for shared memory
POWER_OF_2_VALUES = [1024, 2048, 4096]

# Tensor dtypes of the spec, by the pointer annotation's name for them ("u1": Triton's bool).
_TENSOR_DTYPES = {d: d for d in DTYPES} | {"u1": "i1"}
# Annotations the spec's scalars lack -> the closest one it has.
_NEAREST_SCALAR = {"u1": "i32", "i8": "i32", "i16": "i32", "u8": "i32", "u16": "i32", "u32": "i32",
                   "u64": "i64", "fp64": "fp32"}
_FLOAT_WORDS = {"scale", "eps", "epsilon", "alpha", "beta", "gamma", "temperature", "temp", "momentum", "lr",
                "factor", "rate", "theta", "softcap", "tau", "coef", "coeff", "slope", "std",
                "sigma", "mu", "lambda", "lambd", "dropout", "decay"}
_OUTPUT_WORDS = {"out", "output", "outputs", "y", "c", "o", "dst", "dest", "result", "res"}
_FLAG_PREFIXES = ("IS_", "HAS_", "USE_", "EVEN_", "ENABLE_", "WITH_", "APPLY_", "DO_")


@dataclass
class Guess:
    value: Any
    decide: str | None = None   # None: read from the signature, nothing to decide


def _words(name: str) -> list[str]:
    return [w for w in name.lower().split("_") if w]


def kind(p: Param, usage: Usage) -> Guess:
    """tensor | scalar | tensordesc for a parameter that is not a constexpr."""
    a = p.annotation
    if a.startswith("*") or a == "tensor":
        return Guess("tensor")
    if a == "tensor_descriptor":
        return Guess("tensordesc")
    if a:
        return Guess("scalar")
    if p.name.lower().endswith("_desc") or p.name.lower() == "desc" or p.name in usage.descriptors:
        why = "the body calls its .load/.store" if p.name in usage.descriptors else 'its name ends with "desc"'
        return Guess("tensordesc", f'kind "tensordesc" (a host-side TMA descriptor): {why}; "tensor" if '
                                   "the kernel receives a plain pointer")
    reasons = []
    if p.name.lower().endswith("ptr"):
        reasons.append('its name ends with "ptr"')
    if p.name in usage.pointers:
        reasons.append(usage.pointers[p.name])
    if reasons:
        return Guess("tensor", f'kind "tensor": {" and ".join(reasons)}; "scalar" if it is passed by value')
    return Guess("scalar", 'kind "scalar": nothing marks it as a pointer (its name, loads, stores); '
                           '"tensor" if it is one')


def tensor_dtype(p: Param) -> Guess:
    """A pointer annotation's dtype, else the type variable T (decided once, in [types])."""
    element = p.annotation[1:].removeprefix("k") if p.annotation.startswith("*") else ""
    if element in _TENSOR_DTYPES:
        return Guess(_TENSOR_DTYPES[element])
    return Guess(TYPE_VAR)


def scalar_dtype(p: Param) -> Guess:
    a = p.annotation
    if a in SCALAR_TYPES:
        return Guess(a)
    if a in _NEAREST_SCALAR:
        nearest = _NEAREST_SCALAR[a]
        return Guess(nearest, f"dtype {nearest}: the closest to its annotation {a}, which spec scalars "
                              f"lack ({', '.join(SCALAR_TYPES)}); check the kernel reads it right, "
                              "or make it a tl.constexpr")
    if a:
        return Guess("i32", f"dtype: its annotation {a!r} is no scalar dtype init knows; write one of "
                            f"{', '.join(SCALAR_TYPES)}")
    if any(w in _FLOAT_WORDS for w in _words(p.name)):
        return Guess("fp32", "dtype fp32: its name looks like a float (not annotated); i32 or i64 if it "
                             "is an integer")
    return Guess("i32", "dtype i32: not annotated; i64 if it can exceed 2^31 - 1, fp32 if it is a "
                        "float")


def io(p: Param, usage: Usage) -> Guess:
    if p.name in usage.stored:
        return Guess("out", 'io "out": the kernel writes through it; "scratch" if it is a work buffer '
                            "the caller never reads")
    if p.name in usage.pointers:
        return Guess("in")
    if any(w in _OUTPUT_WORDS for w in _words(p.name)):
        return Guess("out", 'io "out": its name looks like an output (init saw no store through it); '
                            '"in" if the kernel only reads it')
    return Guess("in", 'io "in": init saw no load or store through it; "out" if the kernel writes '
                       "it")


def descriptor_block(constexpr_names: list[str]) -> Guess:
    blocks = [n for n in constexpr_names if "BLOCK" in n.upper()][:2]
    block = blocks if len(blocks) == 2 else [PLACEHOLDER_INT, PLACEHOLDER_INT]
    return Guess(block, "block: the descriptor's block shape (the host TensorDescriptor's block_shape), "
                        "integers or expressions over constexprs; this guess takes the first two BLOCK "
                        "constexprs. Also add dims = [...] to name its shape's dims")


def is_flag(p: Param, usage: Usage) -> bool:
    return p.name in usage.conditions or p.name.upper().startswith(_FLAG_PREFIXES)


def placeholder_value(p: Param, usage: Usage) -> tuple[str, Any, str]:
    """(key, value, decide) for a constexpr that nothing gives a value: `value` or `values`."""
    if usage.strings.get(p.name):
        texts = usage.strings[p.name]
        values = texts if "" in texts else ["", *texts]
        listed = ", ".join(f'"{t}"' for t in texts)
        return "values", values, (f"the strings to compile {p.name} for: the body compares it with "
                                  f'{listed}, and "" stands for none of them. Keep the ones you launch with')
    if is_flag(p, usage):
        why = "the body tests it as a condition" if p.name in usage.conditions else "its name looks like a flag"
        return "value", False, (f"{p.name} has no default and {why}: compile false, true, or both "
                                "(values = [false, true])")
    return "value", PLACEHOLDER_INT, (f"{p.name} has no default, no autotune config and no heuristic: "
                                      f"{PLACEHOLDER_INT} is a placeholder. Write the value to compile "
                                      "(integer, boolean or string), or values = [...] for several")


def heuristic_values(expression: str, is_comparison: bool, p: Param, usage: Usage) -> tuple[list[Any], str]:
    """The values to compile for a constexpr that a heuristic picks, and what to decide about them."""
    if is_comparison:
        return [False, True], (f"the heuristic gives {p.name} 0 or 1 (a comparison), so both are compiled; "
                               "keep only the one your launches need to halve the variants")
    if "next_power_of_2" in expression:
        listed = ", ".join(str(v) for v in POWER_OF_2_VALUES)
        inner = re.fullmatch(r"next_power_of_2\((.*)\)", expression)
        covered = (f" ({inner.group(1)} from {POWER_OF_2_VALUES[0] // 2 + 1} to {POWER_OF_2_VALUES[-1]})"
                   if inner else "")
        return list(POWER_OF_2_VALUES), (
            f"which values of {p.name} to compile. The heuristic picks a power of two at launch, and a "
            f"launch runs only if that value is compiled: these are {listed}{covered}. Add smaller or "
            "larger powers of two for the sizes you launch with (each value is one more variant per "
            "dtype, config and arch)")
    key, value, _ = placeholder_value(p, usage)
    default = default_value(p)
    values = value if key == "values" else [default if default is not None else value]
    return values, (f"which values of {p.name} to compile: list every value the heuristic gives for "
                    "the launches you need; a launch whose value is not listed has no variant")


def constexpr_value(v: Any) -> Any:
    """A Python constexpr value as a spec writes it; None when a spec has no form for it."""
    import triton.language as tl

    if isinstance(v, tl.constexpr):
        v = v.value
    if v is None:
        return {"none": True}
    if isinstance(v, (bool, int, float, str)):
        return v
    if isinstance(v, tl.dtype):
        dtype = from_triton_name(v.name)  # tl.int32.name is "int32"
        return {"dtype": dtype} if dtype is not None else None
    return None


def default_value(p: Param) -> Any:
    """The parameter's default as a spec writes it; None when it has none or a spec has no form for it."""
    return constexpr_value(p.default) if p.has_default else None
