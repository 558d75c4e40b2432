"""A LoadedKernel -> the text of a starting spec (docs/spec-format.md, "tritonpack init").

The spec lists every parameter in order. What the signature and decorators say is copied; what
they do not say is guessed (guesses.py) and marked with a `# DECIDE:` comment.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tritonpack_common.dtypes import INTEGER_SCALARS
from tritonpack_common.kernel_import import is_gluon
from tritonpack_common.toml_text import path_from_spec
from tritonpack_init import guesses
from tritonpack_init.heuristics import Translation, Untranslatable, translate
from tritonpack_init.loading import LoadedKernel
from tritonpack_init.signature import Param, read_params
from tritonpack_init.toml_writer import Table, render
from tritonpack_init.usage import Usage, read_usage

DEFAULT_ARCHS = ["sm_80", "sm_90"]
LAUNCH_OPTIONS = ("num_warps", "num_stages", "num_ctas", "maxnreg")

# Where a constexpr's value comes from.
FROM_CONFIGS, FROM_HEURISTIC, FROM_DEFAULT, FROM_PLACEHOLDER = "configs", "heuristic", "default", "placeholder"


@dataclass
class _Planned:
    """A non-constexpr parameter's kind and dtype, guessed before any table is written."""

    kind: guesses.Guess
    dtype: guesses.Guess


def build_spec(kernel: LoadedKernel, spec_dir: str, command: str) -> str:
    """The spec's text for `kernel`, as a file in `spec_dir`; `command` is named in its first line."""
    return render(_SpecBuilder(kernel, spec_dir, command).tables())


class _SpecBuilder:
    def __init__(self, kernel: LoadedKernel, spec_dir: str, command: str) -> None:
        self.kernel = kernel
        self.spec_dir = spec_dir
        self.command = command
        self.params = read_params(kernel.jit)
        self.usage: Usage = read_usage(kernel.jit)
        self.constexprs = [p.name for p in self.params if p.is_constexpr]
        self.planned = {p.name: self._plan(p) for p in self.params if not p.is_constexpr}
        self.config_names = self._names_set_by_configs()
        self.translations = {n: self._translate(n) for n in self.kernel.heuristics if n in self.constexprs}

    # -- decisions made before writing -----------------------------------------------------------

    def _plan(self, p: Param) -> _Planned:
        kind = guesses.kind(p, self.usage)
        dtype = guesses.scalar_dtype(p) if kind.value == "scalar" else guesses.tensor_dtype(p)
        return _Planned(kind, dtype)

    def _planned_names(self, kind: str, dtypes: tuple[str, ...] = ()) -> list[str]:
        """Non-constexpr params of `kind` (and of one of `dtypes`, when given), in order."""
        return [n for n, pl in self.planned.items()
                if pl.kind.value == kind and (not dtypes or pl.dtype.value in dtypes)]

    def _names_set_by_configs(self) -> list[str]:
        """Constexprs some autotune config sets (and no heuristic), in parameter order."""
        if self.kernel.autotune is None:
            return []
        named = {k for c in self.kernel.autotune.configs for k in c.kwargs}
        return [n for n in self.constexprs if n in named and n not in self.kernel.heuristics]

    def _integer_names(self) -> set[str]:
        return set(self._planned_names("scalar", INTEGER_SCALARS)) | set(self.constexprs)

    def _translate(self, name: str) -> Translation | Untranslatable:
        try:
            return translate(name, self.kernel.heuristics[name], self._integer_names())
        except Untranslatable as e:
            return e

    def _source_of(self, p: Param) -> str:
        if p.name in self.translations:
            return FROM_HEURISTIC
        if p.name in self.config_names:
            return FROM_CONFIGS
        if guesses.default_value(p) is not None:
            return FROM_DEFAULT
        return FROM_PLACEHOLDER

    # -- the tables ---------------------------------------------------------------------------------

    def tables(self) -> list[Table]:
        tables = [self._top(), self._kernel_table()]
        if self._typed_by_type_var():
            tables.append(self._types_table())
        tables += [self._param_table(p) for p in self.params]
        tables += self._config_tables()
        return tables

    def _top(self) -> Table:
        top = Table(None)
        read = ["signature"]
        if self.kernel.autotune:
            read.append("@triton.autotune configs")
        if self.kernel.heuristics:
            read.append("@triton.heuristics")
        top.comment_above(f"Written by `{self.command}` from the function's {', '.join(read)} and body. Each "
                          '"# DECIDE:" comment marks a guess: check it, change the value if needed, then '
                          "delete the comment. docs/spec-format.md describes every key.")
        for name in self.kernel.heuristics:
            if name in LAUNCH_OPTIONS:
                top.decide_above(f"@triton.heuristics sets the launch option {name}, which a spec takes "
                                 "from [[configs]]: add one config per value you need")
            elif name not in self.constexprs:
                top.decide_above(f"@triton.heuristics sets {name}, which is not a constexpr parameter of "
                                 f"{self.kernel.function}: a spec cannot compute it, so the caller must pass it")
        if not self._planned_names("tensor") and not self._planned_names("tensordesc"):
            top.decide_above("no parameter looks like a tensor, and a spec needs at least one: set kind = "
                             '"tensor" on the pointer parameters')
        top.add("spec_version", 1)
        return top

    def _kernel_table(self) -> Table:
        t = Table("kernel")
        function = self.kernel.function
        t.add("name", function.removesuffix("_kernel") or function)
        t.add("source", path_from_spec(self.kernel.path, self.spec_dir))
        if is_gluon(self.kernel.jit):
            t.comment("a @gluon.jit function (Triton's Gluon dialect)")
        t.add("function", function)
        t.add("archs", DEFAULT_ARCHS)
        grid, why = self._grid_guess()
        t.decide("the launch grid (x, y, z): expressions over i32/i64 scalars, constexprs and "
                 "[[launch_vars]] (values the grid needs that the kernel does not receive). " + why)
        t.add("grid", grid)
        return t

    def _grid_guess(self) -> tuple[list[str], str]:
        blocks = [n for n in self.constexprs if "BLOCK" in n.upper()]
        tuned = [n for n in blocks if n in self.config_names or n in self.translations]
        ints = self._planned_names("scalar", INTEGER_SCALARS)
        if blocks and ints:
            block, size = (tuned or blocks)[0], ints[0]
            return [f"cdiv({size}, {block})", "1", "1"], (
                f"Guessed: one program per {block} elements of {size}, the first integer scalar; write "
                "the grid your Python launcher computes")
        return ["1", "1", "1"], ("Guessed: one program, since init found no BLOCK constexpr and integer "
                                 "scalar to guess from; write the grid your Python launcher computes")

    def _typed_by_type_var(self) -> list[str]:
        return [n for n, pl in self.planned.items() if pl.kind.value != "scalar" and pl.dtype.value == guesses.TYPE_VAR]

    def _types_table(self) -> Table:
        t = Table("types")
        typed = self._typed_by_type_var()
        t.decide(f"the dtypes to compile for the tensors typed {guesses.TYPE_VAR} ({', '.join(typed)}), one "
                 'set of variants each, e.g. ["fp16", "bf16"]. Give a tensor whose dtype differs its own '
                 "dtype (or type variable)")
        t.add(guesses.TYPE_VAR, list(guesses.DEFAULT_TYPES))
        return t

    def _param_table(self, p: Param) -> Table:
        t = Table("params", array=True)
        t.add("name", p.name)
        if p.is_constexpr:
            self._constexpr_lines(t, p)
        else:
            kind = self.planned[p.name].kind.value
            {"tensor": self._tensor_lines, "tensordesc": self._descriptor_lines,
             "scalar": self._scalar_lines}[kind](t, p)
        return t

    def _tensor_lines(self, t: Table, p: Param) -> None:
        _add_guess(t, "kind", self.planned[p.name].kind)
        t.add("dtype", self.planned[p.name].dtype.value)
        _add_guess(t, "io", guesses.io(p, self.usage))
        if p.no_alignment_hints:
            t.comment("no divisibility: the function lists it in do_not_specialize")
            return
        if p.name == self._planned_names("tensor")[0]:
            t.decide("every tensor: divisibility = 16 makes the runtime refuse addresses that are not "
                     "multiples of 16 bytes ([16, 1] adds variants for them); numel = \"<element count>\" "
                     "lets `tritonpack run` allocate it")
        t.add("divisibility", 16)

    def _descriptor_lines(self, t: Table, p: Param) -> None:
        _add_guess(t, "kind", self.planned[p.name].kind)
        t.add("dtype", self.planned[p.name].dtype.value)
        _add_guess(t, "block", guesses.descriptor_block(self.constexprs))

    def _scalar_lines(self, t: Table, p: Param) -> None:
        # One comment for both guesses: a scalar's kind and dtype are decided together.
        planned = self.planned[p.name]
        decide = "; ".join(g.decide for g in (planned.kind, planned.dtype) if g.decide)
        if decide:
            t.decide(decide)
        t.add("kind", "scalar")
        t.add("dtype", planned.dtype.value)
        if p.no_alignment_hints:
            t.comment("no divisibility: the function lists it in do_not_specialize")
        elif p.name == next(iter(self._planned_names("scalar", INTEGER_SCALARS)), None):
            t.comment("every i32/i64 scalar may set divisibility = [16, 1]: variants for values that are "
                      "multiples of 16, as Triton's JIT specializes them")

    def _constexpr_lines(self, t: Table, p: Param) -> None:
        t.add("kind", "constexpr")
        source = self._source_of(p)
        if source == FROM_CONFIGS:
            t.comment("set by each [[configs]] entry (the @triton.autotune configs)")
        elif source == FROM_HEURISTIC:
            self._heuristic_lines(t, p)
        elif source == FROM_DEFAULT:
            t.comment("the function's default")
            t.add("value", guesses.default_value(p))
        else:
            self._placeholder_lines(t, p)

    def _placeholder_lines(self, t: Table, p: Param) -> None:
        key, value, decide = guesses.placeholder_value(p, self.usage)
        if p.has_default:
            decide = f"its default {p.default!r} has no spec form. " + decide
        t.decide(decide)
        t.add(key, value)

    def _heuristic_lines(self, t: Table, p: Param) -> None:
        found = self.translations[p.name]
        if isinstance(found, Translation):
            values, decide = guesses.heuristic_values(found.expression, found.is_comparison, p, self.usage)
            t.decide(decide)
            t.add("values", values)
            t.comment(f"from @triton.heuristics: {found.source}")
            t.add("heuristic", found.expression)
            return
        values, decide = guesses.heuristic_values(found.source, False, p, self.usage)
        t.decide(decide)
        t.add("values", values)
        t.decide(f"could not translate: {found.source or '(source not found)'} ({found}). Write it in the "
                 "spec's expression language and uncomment the line below, or leave it out and pick the "
                 "variant when launching")
        t.comment('heuristic = "<expression over i32/i64 scalars and constexprs>"')

    # -- configs ----------------------------------------------------------------------------------

    def _config_tables(self) -> list[Table]:
        autotune = self.kernel.autotune
        if autotune is None:
            trailer = Table(None)
            trailer.decide_above("launch configs: the function has no @triton.autotune, so the spec's "
                                 "default applies (num_warps = 4, num_stages = 3, num_ctas = 1). Add "
                                 "[[configs]] tables to compile others")
            return [trailer]
        tables = [self._config_table(i, c) for i, c in enumerate(autotune.configs)]
        tables[0].comment_above(f"@triton.autotune key = {autotune.key!r} (used by ahead-of-time tuning)")
        if autotune.unsupported:
            tables[0].comment_above(f"@triton.autotune also has {', '.join(autotune.unsupported)}, which a "
                                    "spec does not carry: the caller does that work (every config is compiled)")
        return tables

    def _config_table(self, index: int, config: Any) -> Table:
        t = Table("configs", array=True)
        t.add("name", f"c{index}")
        t.add("num_warps", int(config.num_warps))
        t.add("num_stages", int(config.num_stages))
        t.add("num_ctas", int(config.num_ctas))
        for attr in ("maxnreg", "ir_override", "pre_hook"):
            if getattr(config, attr, None) is not None:
                t.comment(f"{attr} = {getattr(config, attr)!r} in the autotune config: a spec has no key "
                          "for it, so it is not applied")
        for name in config.kwargs:
            if name not in self.config_names:
                t.comment(f"the autotune config also sets {name} = {config.kwargs[name]!r}, left out: "
                          f"{self._why_not_in_configs(name)}")
        if self.config_names:
            t.add("constexprs", self._config_constexprs(t, config))
        return t

    def _why_not_in_configs(self, name: str) -> str:
        if name in self.kernel.heuristics:
            return "a heuristic sets it"
        if name in self.planned:
            return "it is not a constexpr parameter"
        return f"{self.kernel.function} has no such parameter"

    def _config_constexprs(self, t: Table, config: Any) -> dict[str, Any]:
        values = {}
        for name in self.config_names:
            value = guesses.constexpr_value(config.kwargs[name]) if name in config.kwargs else None
            if value is None:
                value = self._missing_config_value(t, name, config)
            values[name] = value
        return values

    def _missing_config_value(self, t: Table, name: str, config: Any) -> Any:
        p = next(p for p in self.params if p.name == name)
        default = guesses.default_value(p)
        if name not in config.kwargs and default is not None:
            t.comment(f"{name}: this autotune config does not set it, so the function's default applies")
            return default
        _, value, _ = guesses.placeholder_value(p, self.usage)
        value = value[0] if isinstance(value, list) else value
        problem = ("does not set it and the function has no default" if name not in config.kwargs
                   else f"sets it to {config.kwargs[name]!r}, which a spec cannot write")
        t.decide(f"{name}: this autotune config {problem}; {value!r} is a placeholder: write the value to compile")
        return value


def _add_guess(t: Table, key: str, guess: guesses.Guess) -> None:
    if guess.decide:
        t.decide(guess.decide)
    t.add(key, guess.value)
