"""Stand-ins for the classes a PluginGen kernel config uses (tensorrt_llm.tools.plugin_gen.core).

A PluginGen config starts with `from tensorrt_llm.tools.plugin_gen.core import *` and builds a
`KERNELS` list of `KernelMetaData`. The importer installs this module under that name before it
runs the config, so converting a config needs no TensorRT-LLM. These classes only record what
the config says, with PluginGen's constructor forms and defaults; every check happens in
convert.py, where a message can name the kernel and the argument.

Constructor forms (positional order as in PluginGen):
    Type('tensor[fp16]'), Type('fp32')
    InputArg(name, dtype, offset=0, hints=None)     OutputArg(...), ParamArg(...) alike
    DimSizeArg(name, offset=0, hints=None)          always an int32 scalar
    Constexpr(value)
    KernelMetaData(kernel_name='', ios=None, shape_infer_rules=None, version=1, kernel_file='',
                   num_warps=1, num_stages=1, grid_dims=('1', '1', '1'))
`offset` is accepted for compatibility and ignored (PluginGen recomputes it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple, Union

# What `import *` gives a config: the classes, plus the few helpers PluginGen's own module
# happened to export and that configs are seen to use (os, typing names).
__all__ = [
    "Type", "Argument", "InputArg", "OutputArg", "ParamArg", "DimSizeArg", "Constexpr",
    "KernelMetaData", "os", "pjoin", "Any", "Dict", "Iterable", "List", "Tuple", "Union",
    "dataclass", "field",
]

pjoin = os.path.join


class Type:
    """A PluginGen type string: 'tensor[<dtype>]' for a pointer, '<dtype>' for a scalar.

    The dtype is kept as written; convert.py maps it (and reports unknown ones by argument).
    """

    def __init__(self, s: str) -> None:
        self.text = s
        text = s.strip() if isinstance(s, str) else ""
        self.is_tensor = text.startswith("tensor")
        if self.is_tensor:
            inner = text[len("tensor"):].strip()
            self.dtype = inner[1:-1].strip() if inner.startswith("[") and inner.endswith("]") else ""
        else:
            self.dtype = text

    @property
    def is_scalar(self) -> bool:
        return not self.is_tensor

    def __str__(self) -> str:
        return str(self.text)

    def __repr__(self) -> str:
        return f"Type({self.text!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Type) and self.text == other.text

    def __hash__(self) -> int:
        return hash(self.text)

    @staticmethod
    def from_str(s: str) -> "Type":
        return Type(s)

    @staticmethod
    def float16() -> "Type":
        return Type("fp16")

    @staticmethod
    def float32() -> "Type":
        return Type("fp32")

    @staticmethod
    def float64() -> "Type":
        return Type("fp64")

    @staticmethod
    def int8() -> "Type":
        return Type("i8")

    @staticmethod
    def int32() -> "Type":
        return Type("i32")

    @staticmethod
    def int64() -> "Type":
        return Type("i64")


@dataclass
class Argument:
    """A non-constexpr kernel parameter; `kind` says which PluginGen class made it."""

    name: str
    dtype: Any = None
    offset: int = 0
    hints: Optional[List[str]] = None

    kind = "argument"

    @property
    def is_tensor(self) -> bool:
        return isinstance(self.dtype, Type) and self.dtype.is_tensor


@dataclass
class InputArg(Argument):
    """A tensor the kernel reads: a plugin input."""

    kind = "input"


@dataclass
class OutputArg(Argument):
    """A tensor the kernel writes: a plugin output (its shape comes from a rule)."""

    kind = "output"


@dataclass
class ParamArg(Argument):
    """A scalar that is a plugin field (attribute), fixed when the plugin is created."""

    kind = "param"


@dataclass
class DimSizeArg(Argument):
    """An int32 scalar computed from input shapes by a rule 'X[...] : expr -> name'."""

    kind = "dim_size"

    def __init__(self, name: str, offset: int = 0, hints: Optional[List[str]] = None) -> None:
        # PluginGen fixes the type (a class attribute there), so it is not a constructor argument.
        super().__init__(name, Type("i32"), offset, hints)


@dataclass
class Constexpr:
    """A tl.constexpr parameter's value; its name is the kernel function's parameter there."""

    value: Any


@dataclass
class KernelMetaData:
    """One kernel of a PluginGen config. `ios` lists every kernel parameter, in order."""

    kernel_name: str = ""
    ios: List[Any] = field(default_factory=list)
    shape_infer_rules: List[str] = field(default_factory=list)
    version: int = 1
    kernel_file: str = ""
    num_warps: int = 1
    num_stages: int = 1
    grid_dims: Tuple[str, str, str] = ("1", "1", "1")
