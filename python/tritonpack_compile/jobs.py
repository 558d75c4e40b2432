"""The job file: loading and full validation, before any compiler is involved.

Every structural problem is a JobFileError whose message names the field
(`jobs[3].signature[2]`), so the C++ CLI can show it as is. Checks that need the
kernel itself (parameter names, Triton's option names) happen in the worker.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from dataclasses import dataclass
from typing import Any

from tritonpack_common.dtypes import DTYPES, INTEGER_SCALARS, SCALAR_TYPES, triton_name

SCHEMA = "tritonpack-compile-jobs"
VERSION = 1

# Element types (DTYPES), scalar types and integer scalars: tritonpack_common.dtypes.
POINTER_TYPES = frozenset("*" + t for t in DTYPES)
CONSTEXPR = "constexpr"
TENSORDESC = "tensordesc"
MAX_DESCRIPTOR_DIMS = 5  # TMA's limit, and Triton's host TensorDescriptor's

# `tensordesc<fp16[64, 128]>`, or for Gluon `tensordesc<fp16[64, 64],NVMMASharedLayout(...)>`.
# Only the part up to the block shape is ours to read; the layout is Triton's text,
# passed through verbatim (Triton evaluates it as a Python expression).
_TENSORDESC_RE = re.compile(r"tensordesc<(?P<dtype>[a-z0-9]+)\[(?P<dims>[^\]]*)\](?:,(?P<layout>.+))?>", re.DOTALL)

# Options that are not Triton's to take from the job: the target comes from `arch`.
RESERVED_OPTIONS = frozenset(("arch", "warp_size", "backend_name"))


class JobFileError(Exception):
    """The job file cannot be used; the message names the offending field."""


@dataclass(frozen=True)
class Descriptor:
    """A host-side tensor descriptor parameter's type: `tensordesc<fp16[64, 128]>`."""
    dtype: str  # element type: "fp16", ...
    block: tuple[int, ...]  # the declared block shape, 1 to 5 dims
    layout: str | None  # Gluon's shared-memory layout text, verbatim; None for @triton.jit kernels

    @property
    def ndim(self) -> int:
        return len(self.block)


def parse_descriptor(type_: str) -> Descriptor:
    """Reads a `tensordesc<...>` type. Raises ValueError saying what is wrong."""
    m = _TENSORDESC_RE.fullmatch(type_)
    if not m:
        raise ValueError("expected tensordesc<DTYPE[B0, B1, ...]> or, for Gluon, tensordesc<DTYPE[B0, ...],LAYOUT>")
    if m.group("dtype") not in DTYPES:
        raise ValueError(f"unknown element type {m.group('dtype')!r}; expected one of {', '.join(DTYPES)}")
    dims = [d.strip() for d in m.group("dims").split(",")]
    if not all(d.isdigit() and int(d) > 0 for d in dims):
        raise ValueError(f"block shape [{m.group('dims')}] must be positive integers separated by commas")
    if len(dims) > MAX_DESCRIPTOR_DIMS:
        raise ValueError(f"block shape has {len(dims)} dims; a descriptor has 1 to {MAX_DESCRIPTOR_DIMS}")
    return Descriptor(m.group("dtype"), tuple(int(d) for d in dims), m.group("layout"))


@dataclass(frozen=True)
class DtypeValue:
    """A constexpr whose value is a Triton dtype (`{"dtype": "fp16"}` in the job file).

    Kept as a name here: this module never imports Triton. The worker turns it into
    `triton.language.dtype(...)`.
    """
    name: str  # a key of DTYPES

    @property
    def triton_name(self) -> str:
        """The name `triton.language.dtype()` takes: 'fp16', 'int8', 'uint8', 'int1', ..."""
        return triton_name(self.name)

    def __repr__(self) -> str:
        return f"tl.{DTYPES[self.name]}"


@dataclass(frozen=True)
class Param:
    name: str
    type: str  # "*fp16", "i32", ..., "tensordesc<fp16[64, 64]>", or "constexpr"

    @property
    def is_constexpr(self) -> bool:
        return self.type == CONSTEXPR

    # Parsed on first use, then kept in the instance's __dict__ (which a frozen dataclass still
    # has; pickling to the workers carries it along). Equality and hashing see the fields only.
    @functools.cached_property
    def descriptor(self) -> Descriptor | None:
        return parse_descriptor(self.type) if self.type.startswith(TENSORDESC) else None

    @property
    def abi_type(self) -> str:
        """The argument's type as the runtime sees it: ptr, tensordesc, i32, i64, fp32, fp16, bf16."""
        if self.type.startswith("*"):
            return "ptr"
        return TENSORDESC if self.type.startswith(TENSORDESC) else self.type


@dataclass(frozen=True)
class Job:
    id: int
    signature: tuple[Param, ...]
    constexprs: dict[str, Any]  # int, float, bool, str, None or DtypeValue
    divisibility: dict[str, int]
    arch: int
    options: dict[str, Any]
    raw: dict[str, Any]  # the job object as read, for the cache key

    def args(self) -> list[Param]:
        """The runtime arguments: non-constexpr params in order."""
        return [p for p in self.signature if not p.is_constexpr]

    def signature_key(self) -> tuple:
        """What checking the signature against the function looks at: names, order, which
        are constexpr, which are descriptors and which of those carry a (Gluon) layout. Jobs
        with equal keys pass or fail that check together."""
        return tuple((p.name, p.is_constexpr, None if p.descriptor is None else p.descriptor.layout is not None)
                     for p in self.signature)

    def describe(self) -> str:
        """A short label for messages: 'job 3 (sm_90, x_ptr:*fp16, ..., BLOCK_SIZE=1024, num_warps=4)'."""
        sig = ", ".join(f"{p.name}={self.constexprs[p.name]!r}" if p.is_constexpr else f"{p.name}:{p.type}"
                        for p in self.signature)
        opts = "".join(f", {k}={v!r}" for k, v in sorted(self.options.items()))
        return f"job {self.id} (sm_{self.arch}: {sig}{opts})"


@dataclass(frozen=True)
class JobFile:
    path: str
    source_file: str
    function: str
    cache_dir: str
    jobs: tuple[Job, ...]


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _expect(value: Any, kind: type | tuple[type, ...], where: str, what: str) -> Any:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    # bool is an int in Python, but JSON true is never a valid integer here.
    if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
        raise JobFileError(f"{where}: expected {what}, got {_type_name(value)} {json.dumps(value)[:80]}")
    return value


def _check_keys(obj: dict, where: str, required: set[str], optional: set[str]) -> None:
    missing = sorted(required - obj.keys())
    if missing:
        raise JobFileError(f"{where}: missing field{'s' if len(missing) > 1 else ''} {', '.join(missing)}")
    unknown = sorted(obj.keys() - required - optional)
    if unknown:
        allowed = ", ".join(sorted(required | optional))
        raise JobFileError(f"{where}: unknown field{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                           f"(allowed: {allowed})")


def _parse_signature(value: Any, where: str) -> tuple[Param, ...]:
    _expect(value, list, where, "a list of [name, type] pairs")
    if not value:
        raise JobFileError(f"{where}: is empty; list every parameter of the kernel")
    params: list[Param] = []
    seen: set[str] = set()
    for i, entry in enumerate(value):
        here = f"{where}[{i}]"
        if not (isinstance(entry, list) and len(entry) == 2):
            raise JobFileError(f"{here}: expected a [name, type] pair, got {json.dumps(entry)[:80]}")
        name, type_ = entry
        _expect(name, str, f"{here}[0]", "a parameter name")
        _expect(type_, str, f"{here}[1]", "a type")
        if not name.isidentifier():
            raise JobFileError(f"{here}[0]: {name!r} is not a parameter name")
        if name in seen:
            raise JobFileError(f"{here}: parameter {name!r} is listed twice")
        if type_.startswith(TENSORDESC):
            try:
                parse_descriptor(type_)
            except ValueError as e:
                raise JobFileError(f"{here}[1]: {type_[:120]!r} for {name!r}: {e}") from None
        elif type_ != CONSTEXPR and type_ not in POINTER_TYPES and type_ not in SCALAR_TYPES:
            raise JobFileError(
                f"{here}: unknown type {type_!r} for {name!r}; expected one of "
                f"{', '.join(sorted(POINTER_TYPES))}, {', '.join(SCALAR_TYPES)}, tensordesc<DTYPE[BLOCK]>, constexpr")
        seen.add(name)
        params.append(Param(name, type_))
    return tuple(params)


def _constexpr_value(value: Any, where: str) -> Any:
    """A constexpr's value as the kernel will see it: JSON scalars as is, {"dtype": name} as a DtypeValue."""
    if isinstance(value, dict):
        if set(value) != {"dtype"}:
            raise JobFileError(f"{where}: an object value must be {{\"dtype\": NAME}}, got {json.dumps(value)[:80]}")
        name = _expect(value["dtype"], str, f"{where}.dtype", "a dtype name such as \"fp16\"")
        if name not in DTYPES:
            raise JobFileError(f"{where}.dtype: unknown dtype {name!r}; expected one of {', '.join(DTYPES)}")
        return DtypeValue(name)
    _expect(value, (int, float, bool, str, type(None)), where,
            "an integer, number, boolean, string, null or {\"dtype\": NAME}")
    if isinstance(value, float) and not math.isfinite(value):
        raise JobFileError(f"{where}: must be finite")
    return value


def _parse_job(value: Any, where: str) -> Job:
    _expect(value, dict, where, "a job object")
    _check_keys(value, where, {"id", "signature", "arch"}, {"constexprs", "divisibility", "options"})
    job_id = _expect(value["id"], int, f"{where}.id", "an integer")
    where = f"{where} (id {job_id})"
    signature = _parse_signature(value["signature"], f"{where}.signature")
    by_name = {p.name: p for p in signature}

    arch = _expect(value["arch"], int, f"{where}.arch", "an integer compute capability such as 80 or 90")
    if not 50 <= arch <= 1000:
        raise JobFileError(f"{where}.arch: {arch} is not a compute capability (80 for sm_80, 90 for sm_90, ...)")

    given = _expect(value.get("constexprs", {}), dict, f"{where}.constexprs", "an object")
    constexprs: dict[str, Any] = {}
    for name, v in given.items():
        if name not in by_name:
            raise JobFileError(f"{where}.constexprs.{name}: no such parameter in the signature")
        if not by_name[name].is_constexpr:
            raise JobFileError(f"{where}.constexprs.{name}: the signature types {name!r} as "
                               f"{by_name[name].type!r}, not constexpr")
        constexprs[name] = _constexpr_value(v, f"{where}.constexprs.{name}")
    unset = [p.name for p in signature if p.is_constexpr and p.name not in constexprs]
    if unset:
        raise JobFileError(f"{where}.constexprs: no value for constexpr parameter{'s' if len(unset) > 1 else ''} "
                           f"{', '.join(unset)}")

    divisibility = _expect(value.get("divisibility", {}), dict, f"{where}.divisibility", "an object")
    for name, d in divisibility.items():
        here = f"{where}.divisibility.{name}"
        if name not in by_name:
            raise JobFileError(f"{here}: no such parameter in the signature")
        type_ = by_name[name].type
        if not (type_.startswith("*") or type_ in INTEGER_SCALARS):
            raise JobFileError(f"{here}: divisibility applies to pointers and integers, {name!r} is {type_!r}")
        _expect(d, int, here, "a positive integer")
        if d < 1 or d & (d - 1):
            raise JobFileError(f"{here}: {d} is not a power of two")

    options = _expect(value.get("options", {}), dict, f"{where}.options", "an object")
    for name, v in options.items():
        if name in RESERVED_OPTIONS:
            raise JobFileError(f"{where}.options.{name}: not allowed; the target comes from the job's arch")
        _expect(v, (int, float, bool, str), f"{where}.options.{name}", "an integer, number, boolean or string")
    for name in ("num_warps", "num_stages", "num_ctas"):
        if name in options:
            n = _expect(options[name], int, f"{where}.options.{name}", "a positive integer")
            if n < 1:
                raise JobFileError(f"{where}.options.{name}: must be >= 1, got {n}")
    if "num_warps" in options and options["num_warps"] & (options["num_warps"] - 1):
        raise JobFileError(f"{where}.options.num_warps: {options['num_warps']} is not a power of two")

    return Job(id=job_id, signature=signature, constexprs=constexprs, divisibility=dict(divisibility),
               arch=arch, options=dict(options), raw=value)


def parse_job_file(data: Any, path: str) -> JobFile:
    """Validates a decoded job file. Raises JobFileError."""
    _expect(data, dict, "job file", "a JSON object")
    _check_keys(data, "job file", {"schema", "version", "source_file", "function", "cache_dir", "jobs"}, set())
    if data["schema"] != SCHEMA:
        raise JobFileError(f"schema: expected {SCHEMA!r}, got {json.dumps(data['schema'])[:80]}")
    version = _expect(data["version"], int, "version", "an integer")
    if version != VERSION:
        raise JobFileError(f"version: this compile step reads version {VERSION}, the file has version {version}")
    source_file = _expect(data["source_file"], str, "source_file", "an absolute path")
    if not os.path.isabs(source_file):
        raise JobFileError(f"source_file: {source_file!r} is not an absolute path")
    if not os.path.isfile(source_file):
        raise JobFileError(f"source_file: {source_file} does not exist or is not a file")
    function = _expect(data["function"], str, "function", "a function name")
    if not function.isidentifier():
        raise JobFileError(f"function: {function!r} is not a Python name")
    cache_dir = _expect(data["cache_dir"], str, "cache_dir", "an absolute path")
    if not os.path.isabs(cache_dir):
        raise JobFileError(f"cache_dir: {cache_dir!r} is not an absolute path")
    jobs_value = _expect(data["jobs"], list, "jobs", "a list of jobs")
    jobs = tuple(_parse_job(j, f"jobs[{i}]") for i, j in enumerate(jobs_value))
    ids: dict[int, int] = {}
    for i, job in enumerate(jobs):
        if job.id in ids:
            raise JobFileError(f"jobs[{i}].id: id {job.id} is also used by jobs[{ids[job.id]}]")
        ids[job.id] = i
    return JobFile(path=path, source_file=os.path.normpath(source_file), function=function,
                   cache_dir=os.path.normpath(cache_dir), jobs=jobs)


def load_job_file(path: str) -> JobFile:
    """Reads and validates a job file. Raises JobFileError."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError as e:
        raise JobFileError(f"cannot read: {e.strerror or e}") from None
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError) as e:
        raise JobFileError(f"not valid JSON: {e}") from None
    return parse_job_file(data, path)
