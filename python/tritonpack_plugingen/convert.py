"""PluginGen kernel config -> tritonpack kernel spec (TOML text).

load_config() runs the config with this package's stand-ins installed as
tensorrt_llm.tools.plugin_gen.core and returns its KERNELS list; convert() turns one
KernelMetaData into spec text (docs/spec-format.md). Neither imports Triton: the kernel's
parameter names come from parsing the kernel file with `ast`.

Every problem raises ConversionError with a complete message (without the file prefix,
which the CLI adds).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import traceback
import types
from dataclasses import dataclass
from typing import Any

from tritonpack_common import toml_text
from tritonpack_common.dtypes import INTEGER_SCALARS, SCALAR_TYPES
from tritonpack_common.toml_text import comment_text, path_from_spec
from tritonpack_plugingen import core

# PluginGen dtype spellings (and their long forms) -> spec dtypes.
_DTYPES = {
    "fp16": "fp16", "fp32": "fp32", "fp64": "fp64", "bf16": "bf16",
    "int8": "i8", "i8": "i8", "int16": "i16", "i16": "i16", "int32": "i32", "i32": "i32",
    "int64": "i64", "i64": "i64", "uint8": "u8", "u8": "u8",
}
_MAX_DIVISIBILITY = 4096
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_MODULE_NAMES = ("tensorrt_llm", "tensorrt_llm.tools", "tensorrt_llm.tools.plugin_gen",
                 "tensorrt_llm.tools.plugin_gen.core")
_KIND_NAMES = {"input": "InputArg", "output": "OutputArg", "param": "ParamArg", "dim_size": "DimSizeArg"}


class ConversionError(Exception):
    """The config cannot be converted; str(e) is the whole message."""


# ---------------------------------------------------------------------------------------------
# Running the config


def load_config(config_path: str) -> list[Any]:
    """Runs the config file and returns its KERNELS list (entries not checked yet)."""
    path = os.path.abspath(config_path)
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise ConversionError(f"cannot read the config: {e.strerror or e}") from None
    try:
        code = compile(source, path, "exec", dont_inherit=True)
    except SyntaxError as e:
        raise ConversionError(f"line {e.lineno}: syntax error: {e.msg}") from None

    saved_modules = {name: sys.modules.get(name) for name in _MODULE_NAMES}
    saved_path = list(sys.path)
    _install_stand_ins()
    # Like `python3 config.py`: the config's folder first, so it can import its siblings.
    sys.path.insert(0, os.path.dirname(path))
    namespace: dict[str, Any] = {"__name__": "__plugingen_config__", "__file__": path,
                                 "__builtins__": __builtins__}
    try:
        exec(code, namespace)  # noqa: S102 (running the config is the point)
    except ImportError as e:
        if not isinstance(e, ModuleNotFoundError):
            raise ConversionError(
                f"{_where(e, path)}: an import failed: {type(e).__name__}: {e}. The importer runs the "
                "config without TensorRT-LLM; tensorrt_llm.tools.plugin_gen.core provides only "
                f"{', '.join(core.__all__)}.") from None
        missing = e.name or str(e)
        raise ConversionError(
            f"{_where(e, path)}: the config imports '{missing}', which is not available "
            f"({type(e).__name__}: {e}). The importer runs the config without TensorRT-LLM; "
            "only tensorrt_llm.tools.plugin_gen.core is provided. Install the module or remove "
            "the import from the config.") from None
    except SystemExit as e:
        raise ConversionError(f"{_where(e, path)}: the config called exit({e.code!r})") from None
    except BaseException as e:  # noqa: BLE001 (a config may raise anything)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise ConversionError(f"{_where(e, path)}: running the config failed: "
                              f"{type(e).__name__}: {e}") from None
    finally:
        sys.path[:] = saved_path
        for name, module in saved_modules.items():
            if module is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = module

    if "KERNELS" not in namespace:
        raise ConversionError("the config defines no KERNELS list "
                              "(PluginGen reads KERNELS = [KernelMetaData(...), ...])")
    kernels = namespace["KERNELS"]
    if not isinstance(kernels, (list, tuple)):
        raise ConversionError(f"KERNELS is a {type(kernels).__name__}, not a list of KernelMetaData")
    if not kernels:
        raise ConversionError("KERNELS is empty")
    for i, k in enumerate(kernels):
        if not isinstance(k, core.KernelMetaData):
            raise ConversionError(f"KERNELS[{i}] is a {type(k).__name__}, not a KernelMetaData")
    return list(kernels)


def _install_stand_ins() -> None:
    parent = None
    for name in _MODULE_NAMES[:-1]:
        module = types.ModuleType(name, "tritonpack_plugingen stand-in (no TensorRT-LLM)")
        module.__path__ = []  # a package, so the submodule import finds its child in sys.modules
        sys.modules[name] = module
        if parent is not None:
            setattr(parent, name.rsplit(".", 1)[1], module)
        parent = module
    sys.modules[_MODULE_NAMES[-1]] = core
    setattr(parent, "core", core)


def _where(e: BaseException, config_path: str) -> str:
    """'line N' of the innermost frame in the config, else 'file:N' of a module it imported."""
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith("<")
              and os.path.abspath(f.filename) != os.path.abspath(__file__)]
    if not frames:
        # A SyntaxError inside an imported module carries its own location.
        if isinstance(e, SyntaxError) and e.filename:
            return f"{e.filename}:{e.lineno}"
        return "while running the config"
    in_config = [f for f in frames if os.path.abspath(f.filename) == config_path]
    if in_config:
        return f"line {in_config[-1].lineno}"
    return f"{frames[-1].filename}:{frames[-1].lineno}"


def pick_kernel(kernels: list[Any], name: str | None) -> Any:
    names = [str(k.kernel_name) for k in kernels]
    if name is not None:
        matches = [k for k in kernels if k.kernel_name == name]
        if not matches:
            raise ConversionError(f"no kernel named '{name}' in KERNELS (it has: {', '.join(names)})")
        if len(matches) > 1:
            raise ConversionError(f"KERNELS has {len(matches)} kernels named '{name}'")
        return matches[0]
    if len(kernels) == 1:
        return kernels[0]
    raise ConversionError(f"KERNELS has {len(kernels)} kernels ({', '.join(names)}); "
                          "choose one with --kernel NAME")


# ---------------------------------------------------------------------------------------------
# The kernel function's parameters


@dataclass
class _FnParam:
    name: str
    is_constexpr: bool


def _function_params(kernel_file: str, function: str) -> list[_FnParam]:
    try:
        with open(kernel_file, "rb") as f:
            tree = ast.parse(f.read(), kernel_file)
    except OSError as e:
        raise ConversionError(f"cannot read kernel_file {kernel_file}: {e.strerror or e}") from None
    except SyntaxError as e:
        raise ConversionError(f"kernel_file {kernel_file}:{e.lineno}: syntax error: {e.msg}") from None
    found = None
    for node in tree.body:  # the last definition wins, as when Python runs the file
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == function:
            found = node
    if found is None:
        defined = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
        raise ConversionError(f"kernel_file {kernel_file} defines no function '{function}' at module level "
                              f"(it defines: {', '.join(defined) or 'none'})")
    args = found.args
    if args.vararg or args.kwarg or args.kwonlyargs:
        raise ConversionError(f"{function} in {kernel_file} has *args, **kwargs or keyword-only "
                              "parameters; a Triton kernel's parameters are positional")
    return [_FnParam(a.arg, _is_constexpr_annotation(a.annotation)) for a in args.posonlyargs + args.args]


def _is_constexpr_annotation(node: ast.expr | None) -> bool:
    if node is None:
        return False
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.split(".")[-1].strip() == "constexpr"
    if isinstance(node, ast.Attribute):
        return node.attr == "constexpr"
    if isinstance(node, ast.Name):
        return node.id == "constexpr"
    return False


# ---------------------------------------------------------------------------------------------
# Conversion


@dataclass
class _Param:
    name: str
    lines: list[str]        # key = value lines of its [[params]] table
    comments: list[str]     # comment lines written before the table
    divisibility: list[int]  # distinct values, first-appearance order ([] = cannot carry hints)
    zipped: list[int]       # per specialization (PluginGen's zipped hints); [] when no hints


def convert(kernel: Any, config_path: str, toml_dir: str) -> str:
    """Spec text for one KernelMetaData. `toml_dir`: the folder the TOML will be written to."""
    config_path = os.path.abspath(config_path)
    name = kernel.kernel_name
    if not isinstance(name, str) or not _IDENT.match(name):
        raise ConversionError(f"kernel_name {name!r} is not an identifier")
    where = f"kernel '{name}'"

    kernel_file = _resolve_kernel_file(kernel.kernel_file, config_path, where)
    fn_params = _function_params(kernel_file, name)
    ios = list(kernel.ios or [])
    _check_ios(ios, fn_params, name, kernel_file, where)

    rules = kernel.shape_infer_rules or []
    if not isinstance(rules, (list, tuple)) or not all(isinstance(r, str) for r in rules):
        raise ConversionError(f"{where}: shape_infer_rules must be a list of strings")
    _check_rules(ios, rules, where)

    n_specs = _number_of_specializations(ios, where)
    params = [_convert_io(io, fn_params[i].name, n_specs, where) for i, io in enumerate(ios)]
    grid = _grid(kernel.grid_dims, ios, fn_params, where)
    num_warps = _positive_int(kernel.num_warps, "num_warps", where)
    num_stages = _positive_int(kernel.num_stages, "num_stages", where)

    out: list[str] = []
    out.append(f"# Converted from the PluginGen config {comment_text(path_from_spec(config_path, toml_dir))}, "
               f"kernel '{name}',")
    out.append("# by `python3 -m tritonpack_plugingen`. Edit the config and convert it again rather than "
               "editing this file.")
    out.append("spec_version = 1")
    out.append("")
    out.append("[kernel]")
    out.append(_entry("name", name))
    out.append(_entry("function", name))
    out.append(_entry("source", path_from_spec(kernel_file, toml_dir)))
    out.append(_entry("grid", grid))
    out.append("")
    out.append("[plugin]")
    out.append(_entry("version", str(kernel.version)))
    if rules:
        out.append("rules = [")
        out.extend(f"  {_value(r)}," for r in rules)
        out.append("]")
    else:
        out.append(_entry("rules", []))

    hinted = [p for p in params if p.zipped]
    if hinted:
        combos = 1
        for p in hinted:
            combos *= len(p.divisibility)
        zipped = len({tuple(p.zipped[i] for p in hinted) for i in range(n_specs)})
        if combos > zipped:
            out.append("")
            out.append(f"# PluginGen's hints list {zipped} specialization{'s' if zipped != 1 else ''} "
                       f"(the i-th hint of every argument together); the divisibility lists below give "
                       f"{combos} combinations.")
            out.append("# tritonpack compiles the cross product (a superset); the runtime picks the "
                       "variant by the actual alignment of the arguments.")

    for p in params:
        out.append("")
        out.extend(f"# {comment_text(c)}" for c in p.comments)
        out.append("[[params]]")
        out.extend(p.lines)

    out.append("")
    out.append("[[configs]]")
    out.append(_entry("name", "default"))
    out.append(_entry("num_warps", num_warps))
    out.append(_entry("num_stages", num_stages))
    return "\n".join(out) + "\n"


def _resolve_kernel_file(kernel_file: Any, config_path: str, where: str) -> str:
    if not isinstance(kernel_file, str) or not kernel_file:
        raise ConversionError(f"{where}: kernel_file is not set (the path of the Triton source file)")
    if os.path.isabs(kernel_file):
        candidates = [kernel_file]
    else:
        # PluginGen uses the path as given, so relative to the current folder; the config's
        # folder is the fallback.
        candidates = [os.path.abspath(kernel_file), os.path.join(os.path.dirname(config_path), kernel_file)]
    for c in candidates:
        if os.path.isfile(c):
            return os.path.abspath(c)
    raise ConversionError(f"{where}: kernel_file {kernel_file} not found (looked for {' and '.join(candidates)})")


def _io_desc(io: Any) -> str:
    if isinstance(io, core.Constexpr):
        return f"Constexpr({io.value!r})"
    if isinstance(io, core.Argument):
        return f"{_KIND_NAMES.get(io.kind, type(io).__name__)}('{io.name}')"
    return type(io).__name__


def _check_ios(ios: list[Any], fn_params: list[_FnParam], function: str, kernel_file: str, where: str) -> None:
    for i, io in enumerate(ios):
        if isinstance(io, core.Argument):
            if io.kind not in _KIND_NAMES:
                raise ConversionError(f"{where}: ios[{i}] is an Argument; use InputArg, OutputArg, ParamArg "
                                      "or DimSizeArg")
            if not isinstance(io.name, str) or not _IDENT.match(io.name):
                raise ConversionError(f"{where}: ios[{i}] has the name {io.name!r}, which is not an identifier")
        elif not isinstance(io, core.Constexpr):
            raise ConversionError(f"{where}: ios[{i}] is a {type(io).__name__}; expected InputArg, OutputArg, "
                                  "ParamArg, DimSizeArg or Constexpr")
    problems = []
    for i in range(max(len(ios), len(fn_params))):
        io = ios[i] if i < len(ios) else None
        fp = fn_params[i] if i < len(fn_params) else None
        if io is None:
            problems.append(f"position {i}: the function has {fp.name}, ios has nothing")
        elif fp is None:
            problems.append(f"position {i}: ios has {_io_desc(io)}, the function has nothing")
        elif isinstance(io, core.Constexpr):
            if not fp.is_constexpr:
                problems.append(f"position {i}: ios has {_io_desc(io)} but the function's {fp.name} "
                                "is not annotated tl.constexpr")
        elif io.name != fp.name:
            problems.append(f"position {i}: ios has {_io_desc(io)}, the function has {fp.name}")
        elif fp.is_constexpr:
            problems.append(f"position {i}: the function's {fp.name} is a tl.constexpr but ios has "
                            f"{_io_desc(io)}; use Constexpr(value)")
    if problems:
        fn_text = ", ".join(p.name + (": tl.constexpr" if p.is_constexpr else "") for p in fn_params)
        raise ConversionError(
            f"{where}: ios does not match the parameters of {function} in {kernel_file}\n"
            f"  function ({len(fn_params)}): {function}({fn_text})\n"
            f"  ios ({len(ios)}):      [{', '.join(_io_desc(io) for io in ios)}]\n  "
            + "\n  ".join(problems))
    names = [io.name for io in ios if isinstance(io, core.Argument)]
    for n in names:
        if names.count(n) > 1:
            raise ConversionError(f"{where}: two arguments are named '{n}'")
    if not any(isinstance(io, core.InputArg) for io in ios):
        raise ConversionError(f"{where}: ios has no InputArg (PluginGen needs at least one input)")
    if not any(isinstance(io, core.OutputArg) for io in ios):
        raise ConversionError(f"{where}: ios has no OutputArg (PluginGen needs at least one output)")


def _rule_target(rule: str) -> tuple[str, bool]:
    """(target name, is a dim-size rule) of 'lhs -> target' or 'lhs : expr -> name'."""
    if "->" not in rule:
        return "", False
    lhs, rhs = rule.rsplit("->", 1)
    target = rhs.strip().split("[", 1)[0].strip()
    return target, ":" in lhs


def _check_rules(ios: list[Any], rules: list[str], where: str) -> None:
    args = {io.name: io for io in ios if isinstance(io, core.Argument)}
    targeted: set[str] = set()
    for r in rules:
        target, is_dim_rule = _rule_target(r)
        if not target:
            raise ConversionError(f"{where}: shape rule {r!r} has no '-> target'")
        if target not in args:
            raise ConversionError(f"{where}: shape rule {r!r} computes '{target}', which is not an argument")
        arg = args[target]
        if is_dim_rule and not isinstance(arg, core.DimSizeArg):
            raise ConversionError(f"{where}: rule {r!r} computes a dimension size into '{target}', "
                                  f"which is {_io_desc(arg)}, not a DimSizeArg")
        if not is_dim_rule and not isinstance(arg, core.OutputArg):
            raise ConversionError(f"{where}: shape rule {r!r} gives a shape to '{target}', "
                                  f"which is {_io_desc(arg)}, not an OutputArg")
        targeted.add(target)
    for io in ios:
        if isinstance(io, core.DimSizeArg) and io.name not in targeted:
            raise ConversionError(f"{where}: DimSizeArg '{io.name}' is computed by no rule; add one to "
                                  f"shape_infer_rules, e.g. \"X[a,b] : b -> {io.name}\"")
        if isinstance(io, core.OutputArg) and io.name not in targeted:
            raise ConversionError(f"{where}: OutputArg '{io.name}' has no shape rule; add one to "
                                  f"shape_infer_rules, e.g. \"X[*] -> {io.name}[*]\"")


def _hint_list(io: Any, where: str) -> list[str]:
    hints = io.hints
    if hints is None:
        return []
    if isinstance(hints, str) or not isinstance(hints, (list, tuple)):
        raise ConversionError(f"{where}: {_io_desc(io)}: hints must be a list of strings such as ['16', '']")
    out = []
    for h in hints:
        if isinstance(h, bool) or not isinstance(h, (str, int)):
            raise ConversionError(f"{where}: {_io_desc(io)}: hint {h!r} is not a string")
        out.append(str(h).strip())
    return out


def _number_of_specializations(ios: list[Any], where: str) -> int:
    lengths = {}
    for io in ios:
        if isinstance(io, core.Argument):
            n = len(_hint_list(io, where))
            if n:
                lengths[io.name] = n
    if len(set(lengths.values())) > 1:
        listed = ", ".join(f"{k}: {v}" for k, v in lengths.items())
        raise ConversionError(f"{where}: every argument with hints must list the same number of them "
                              f"(the i-th hints form the i-th specialization); the lengths are {listed}")
    return max(lengths.values(), default=1)


def _map_dtype(io: Any, where: str) -> str:
    t = io.dtype
    if isinstance(t, str):
        t = core.Type(t)
    if not isinstance(t, core.Type):
        raise ConversionError(f"{where}: {_io_desc(io)}: the dtype must be a Type('...'), not {t!r}")
    if io.kind in ("input", "output") and not t.is_tensor:
        raise ConversionError(f"{where}: {_io_desc(io)} has the scalar type '{t}'; "
                              "inputs and outputs are tensors: Type('tensor[...]')")
    if io.kind == "param" and t.is_tensor:
        raise ConversionError(f"{where}: {_io_desc(io)} has the tensor type '{t}'; "
                              "a ParamArg is a scalar plugin field")
    dtype = _DTYPES.get(t.dtype)
    if dtype is None:
        raise ConversionError(f"{where}: {_io_desc(io)} has the unknown dtype '{t}' "
                              f"(known: {', '.join(_DTYPES)})")
    if not t.is_tensor and dtype not in SCALAR_TYPES:
        raise ConversionError(f"{where}: {_io_desc(io)} has the scalar dtype '{t}'; scalar parameters "
                              f"may be {', '.join(SCALAR_TYPES)}")
    return dtype


def _convert_io(io: Any, fn_name: str, n_specs: int, where: str) -> _Param:
    if isinstance(io, core.Constexpr):
        v = io.value
        if not isinstance(v, int):  # a bool is an int too
            raise ConversionError(f"{where}: Constexpr({v!r}) for {fn_name}: the value must be an integer "
                                  "or a boolean")
        try:
            value = toml_text.value_text(v)
        except ValueError as e:
            raise ConversionError(f"{where}: Constexpr({v!r}) for {fn_name}: {e}") from None
        return _Param(fn_name, [_entry("name", fn_name), _entry("kind", "constexpr"), f"value = {value}"],
                      [], [], [])

    dtype = "i32" if io.kind == "dim_size" else _map_dtype(io, where)
    lines = [_entry("name", io.name)]
    if io.kind in ("input", "output"):
        lines += [_entry("kind", "tensor"), _entry("dtype", dtype), _entry("io", "in" if io.kind == "input" else "out")]
    else:
        lines += [_entry("kind", "scalar"), _entry("dtype", dtype)]
        if io.kind == "param":
            lines.append(_entry("field", True))

    hints = _hint_list(io, where)
    comments: list[str] = []
    if not hints:
        return _Param(io.name, lines, comments, [], [])
    hints = hints + [""] * (n_specs - len(hints))
    zipped = []
    for h in hints:
        if h in ("", "1"):
            zipped.append(1)
            continue
        value = int(h) if h.isdigit() else 0
        if value < 1 or value & (value - 1) or value > _MAX_DIVISIBILITY:
            raise ConversionError(f"{where}: {_io_desc(io)}: hint '{h}' is not a divisibility "
                                  f"(a power of two from 1 to {_MAX_DIVISIBILITY}, '' for none, '1' for == 1)")
        zipped.append(value)
    if "1" in hints:
        comments.append(f"PluginGen hint '1' on {io.name} (the value equals 1) is not a tritonpack "
                        "specialization: it is treated as no hint.")
    distinct = list(dict.fromkeys(zipped))
    can_hint = io.kind in ("input", "output") or dtype in INTEGER_SCALARS
    if not can_hint:
        if distinct != [1]:
            raise ConversionError(f"{where}: {_io_desc(io)}: divisibility hints apply to tensors and "
                                  f"i32/i64 scalars, not to a {dtype} scalar")
        return _Param(io.name, lines, comments, [], [])
    if len(distinct) == 1:
        if distinct[0] != 1:
            lines.append(_entry("divisibility", distinct[0]))
    else:
        lines.append(_entry("divisibility", distinct))
    return _Param(io.name, lines, comments, distinct, zipped)


def _grid(grid_dims: Any, ios: list[Any], fn_params: list[_FnParam], where: str) -> list[str]:
    if isinstance(grid_dims, str) or not isinstance(grid_dims, (list, tuple)) or not 1 <= len(grid_dims) <= 3:
        raise ConversionError(f"{where}: grid_dims must be a tuple of 1 to 3 expressions, e.g. "
                              "('(n + 127) / 128', '1', '1'); got " + repr(grid_dims))
    allowed = {fp.name for i, fp in enumerate(fn_params) if isinstance(ios[i], core.Constexpr)}
    for io in ios:
        if isinstance(io, core.DimSizeArg) or (isinstance(io, core.ParamArg) and _map_dtype(io, where) in INTEGER_SCALARS):
            allowed.add(io.name)
    grid = []
    for i, g in enumerate(grid_dims):
        if isinstance(g, bool) or not isinstance(g, (str, int)):
            raise ConversionError(f"{where}: grid_dims[{i}] is {g!r}, not an expression string")
        g = str(g)
        for m in re.finditer(r"[A-Za-z_][A-Za-z0-9_.]*", g):
            word = m.group(0)
            if g[m.end():].lstrip().startswith("("):
                continue  # a function call: min, max, cdiv
            if word not in allowed:
                raise ConversionError(f"{where}: grid_dims[{i}] {g!r} names '{word}'; a grid may name only "
                                      f"integer scalars and constexprs ({', '.join(sorted(allowed)) or 'none here'})")
        grid.append(g)
    return grid


def _positive_int(v: Any, what: str, where: str) -> int:
    if isinstance(v, bool) or not isinstance(v, int) or v < 1:
        raise ConversionError(f"{where}: {what} must be a positive integer, not {v!r}")
    return v


# ---------------------------------------------------------------------------------------------
# TOML text


def _value(value: Any) -> str:
    """toml_text.value_text with this module's error type, so the CLI reports it like any other."""
    try:
        return toml_text.value_text(value)
    except toml_text.TomlTextError as e:
        raise ConversionError(str(e)) from None


def _entry(key: str, value: Any) -> str:
    """A `key = value` line."""
    return f"{toml_text.key_text(key)} = {_value(value)}"
