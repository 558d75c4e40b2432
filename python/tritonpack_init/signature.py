"""The kernel function's parameters, as Triton's JITFunction sees them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NO_DEFAULT = object()


@dataclass(frozen=True)
class Param:
    name: str
    # Triton's normalized annotation ("" when none): "constexpr", "i32", "fp32", "u1" (bool),
    # "*fp16" (a pointer), "tensor" (tl.tensor), "tensor_descriptor", ...
    annotation: str
    is_constexpr: bool
    default: Any                # NO_DEFAULT when the signature gives none
    no_alignment_hints: bool    # in do_not_specialize or do_not_specialize_on_alignment

    @property
    def has_default(self) -> bool:
        return self.default is not NO_DEFAULT


def read_params(jit: Any) -> list[Param]:
    """Every parameter of the JITFunction `jit`, in order."""
    return [_param(kp) for kp in jit.params]


def _param(kp: Any) -> Param:
    # Triton's own normalization (KernelParam.annotation), so "int", int and "i32" read alike.
    annotation = kp.annotation or ""
    default = kp.default if kp.has_default else NO_DEFAULT
    no_hints = bool(kp.do_not_specialize or kp.do_not_specialize_on_alignment)
    return Param(kp.name, annotation, bool(kp.is_constexpr), default, no_hints)
