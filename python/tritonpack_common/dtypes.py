"""The dtypes of specs and job files, for every package (no Triton import).

Names as Triton signatures spell them ("fp16", "i32", ...); the C++ side knows the same list
(src/util/types.cpp).
"""

from __future__ import annotations

# Each dtype with the name of the matching `triton.language` attribute (what a job's
# description shows for a dtype constexpr).
DTYPES = {
    "fp16": "float16", "bf16": "bfloat16", "fp32": "float32", "fp64": "float64",
    "i8": "int8", "i16": "int16", "i32": "int32", "i64": "int64",
    "u8": "uint8", "u16": "uint16", "u32": "uint32", "u64": "uint64", "i1": "int1",
    "fp8e4nv": "float8e4nv", "fp8e5": "float8e5",
}
# The dtypes a scalar argument may have, and those of them that are integers.
SCALAR_TYPES = ("i32", "i64", "fp32", "fp16", "bf16")
INTEGER_SCALARS = ("i32", "i64")


def triton_name(dtype: str) -> str:
    """The name `triton.language.dtype()` takes and `tl.dtype.name` gives: 'fp16', 'int8', 'uint8', 'int1', ..."""
    attribute = DTYPES[dtype]
    return attribute if attribute.startswith(("int", "uint")) else dtype


_BY_TRITON_NAME = {triton_name(d): d for d in DTYPES}


def from_triton_name(name: str) -> str | None:
    """The dtype `name` is Triton's name of ('int32' -> 'i32', 'fp16' -> 'fp16'); None if none is."""
    return _BY_TRITON_NAME.get(name)
