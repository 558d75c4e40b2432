"""What the kernel's body says about its parameters (read with `ast`, nothing is run).

Names alone miss kernels like fmha's `(Out, L, M, Q, K, V, ...)`, so init also looks at how each
parameter is used:
- pointer: reached, through `+`/`-`, subscripts and locals, the pointer argument of tl.load,
  tl.store, tl.atomic_*, tl.make_block_ptr, or has `.dtype.element_ty` read;
- stored: the same for tl.store and tl.atomic_* (the kernel writes through it);
- descriptor: has .load/.store called on it, or is given to a tensor-descriptor operation;
- condition: a constexpr used as a truth value (`if FLAG:`), so a boolean;
- strings: a constexpr compared with string literals (`ACTIVATION == "leaky_relu"`).
Calls to other @jit functions of the module are followed, so a pointer handed to a helper that
loads from it counts. These are hints for guesses, each of which the spec marks `# DECIDE`.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
import types
from dataclasses import dataclass, field
from typing import Any

_LOADS = {"load"}
_WRITES = {"store", "atomic_add", "atomic_and", "atomic_cas", "atomic_max", "atomic_min", "atomic_or",
           "atomic_xchg", "atomic_xor"}
_POINTER_MAKERS = {"make_block_ptr", "make_tensor_descriptor"}
_DESCRIPTOR_OPS = {"load_tensor_descriptor", "store_tensor_descriptor", "_experimental_descriptor_load",
                   "_experimental_descriptor_store", "async_copy_global_to_shared",
                   "async_copy_shared_to_global", "async_gather", "async_scatter"}
_DESCRIPTOR_METHODS = {"load", "store", "gather", "scatter"} | {w for w in _WRITES if w.startswith("atomic")}
_VERBS = {"load": "reads through", "store": "writes through", "make_block_ptr": "makes a block pointer of",
          "make_tensor_descriptor": "makes a descriptor of"}
# Operations whose result points where (one of) their arguments point: argument positions.
_POINTER_PASSING = {"where": (1, 2), "advance": (0,), "broadcast_to": (0,), "reshape": (0,), "view": (0,),
                    "expand_dims": (0,), "multiple_of": (0,), "max_contiguous": (0,), "max_constancy": (0,)}


@dataclass
class Usage:
    pointers: dict[str, str] = field(default_factory=dict)   # param -> how it is used as a pointer
    stored: set[str] = field(default_factory=set)
    descriptors: set[str] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)
    strings: dict[str, list[str]] = field(default_factory=dict)


def read_usage(jit: Any) -> Usage:
    """The usage facts of `jit`'s parameters; an unreadable source gives no facts."""
    return _Analysis(jit, in_progress=set()).run()


class _Analysis:
    def __init__(self, jit: Any, in_progress: set[int]) -> None:
        self.jit = jit
        self.params = list(jit.arg_names)
        self.globals = getattr(jit.fn, "__globals__", {})
        self.in_progress = in_progress
        self.derived: dict[str, set[str]] = {}  # local name -> the params it points into
        self.usage = Usage()

    def run(self) -> Usage:
        tree = _function_tree(self.jit.fn)
        if tree is None or id(self.jit) in self.in_progress:
            return self.usage
        self.in_progress.add(id(self.jit))
        self._follow_assignments(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                self._call(node)
            elif isinstance(node, ast.Attribute):
                self._element_type(node)
            elif isinstance(node, (ast.If, ast.IfExp, ast.While)):
                self._condition(node.test)
            elif isinstance(node, ast.Compare):
                self._string_comparison(node)
        self.in_progress.discard(id(self.jit))
        return self.usage

    # -- pointer flow through locals -------------------------------------------------------------

    def _follow_assignments(self, tree: ast.AST) -> None:
        # Repeated until nothing changes: a loop may assign a name before the line that defines it.
        changed = True
        while changed:
            changed = False
            for node in ast.walk(tree):
                for target, value in _assignments(node):
                    roots = self._roots(value)
                    if roots - self.derived.get(target, set()):
                        self.derived.setdefault(target, set()).update(roots)
                        changed = True

    def _roots(self, node: ast.AST) -> set[str]:
        """The params that the pointer value `node` may point into."""
        if isinstance(node, ast.Name):
            if node.id in self.derived:
                return set(self.derived[node.id])
            return {node.id} if node.id in self.params else set()
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Sub)):
            # pointer + offset: the pointer is written first; an offset's names are not pointers.
            return self._roots(node.left) or self._roots(node.right)
        if isinstance(node, ast.Subscript):
            return self._roots(node.value)
        if isinstance(node, ast.IfExp):
            return self._roots(node.body) | self._roots(node.orelse)
        if isinstance(node, ast.Call):
            return self._call_roots(node)
        return set()

    def _call_roots(self, node: ast.Call) -> set[str]:
        if isinstance(node.func, ast.Attribute) and node.func.attr == "to" and not self._is_module(node.func.value):
            return self._roots(node.func.value)  # ptr.to(tl.pointer_type(...))
        positions = _POINTER_PASSING.get(self._module_function(node) or "", ())
        return set().union(*(self._roots(node.args[i]) for i in positions if i < len(node.args)))

    # -- what the uses say ------------------------------------------------------------------------

    def _call(self, node: ast.Call) -> None:
        op = self._module_function(node)
        if op in _LOADS or op in _WRITES or op in _POINTER_MAKERS:
            target = _argument(node, 0, "pointer", "base")
            for p in self._roots(target) if target is not None else ():
                self.usage.pointers.setdefault(p, f"tl.{op} {_VERBS.get(op, 'uses')} it")
                if op in _WRITES:
                    self.usage.stored.add(p)
        elif op in _DESCRIPTOR_OPS and node.args:
            self.usage.descriptors.update(self._roots(node.args[0]))
        elif op is None and isinstance(node.func, ast.Attribute) and node.func.attr in _DESCRIPTOR_METHODS:
            self.usage.descriptors.update(self._roots(node.func.value))
        else:
            self._helper_call(node)

    def _element_type(self, node: ast.Attribute) -> None:
        # X.dtype.element_ty exists only for pointers.
        inner = node.value
        if node.attr == "element_ty" and isinstance(inner, ast.Attribute) and inner.attr == "dtype":
            for p in self._roots(inner.value):
                self.usage.pointers.setdefault(p, "the body reads its .dtype.element_ty")

    def _condition(self, test: ast.AST) -> None:
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            test = test.operand
        if isinstance(test, ast.BoolOp):
            for value in test.values:
                self._condition(value)
        elif isinstance(test, ast.Name) and test.id in self.params:
            self.usage.conditions.add(test.id)

    def _string_comparison(self, node: ast.Compare) -> None:
        operands = [node.left, *node.comparators]
        texts = [s for o in operands for s in _string_literals(o)]
        for o in operands:
            if texts and isinstance(o, ast.Name) and o.id in self.params:
                self._add_strings(o.id, texts)

    def _add_strings(self, param: str, texts: list[str]) -> None:
        known = self.usage.strings.setdefault(param, [])
        known.extend(t for t in texts if t not in known)

    def _helper_call(self, node: ast.Call) -> None:
        """A call to another @jit function: its parameters' facts become the arguments' facts."""
        callee = self._resolve(node.func)
        from triton.runtime.jit import JITFunction

        if not isinstance(callee, JITFunction):
            return
        facts = _Analysis(callee, self.in_progress).run()
        for position, name in enumerate(callee.arg_names):
            arg = _argument(node, position, name)
            if arg is None:
                continue
            if name in facts.pointers:
                for p in self._roots(arg):
                    self.usage.pointers.setdefault(p, f"{facts.pointers[name]} in {callee.fn.__name__}()")
            if name in facts.stored:
                self.usage.stored.update(self._roots(arg))
            if name in facts.descriptors:
                self.usage.descriptors.update(self._roots(arg))
            if isinstance(arg, ast.Name) and arg.id in self.params:
                if name in facts.conditions:
                    self.usage.conditions.add(arg.id)
                if facts.strings.get(name):
                    self._add_strings(arg.id, facts.strings[name])

    # -- names ------------------------------------------------------------------------------------

    def _resolve(self, node: ast.AST) -> Any:
        """The object an expression like `helper` or `module.helper` names in the kernel's globals."""
        if isinstance(node, ast.Name):
            return None if node.id in self.params or node.id in self.derived else self.globals.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self._resolve(node.value)
            return getattr(base, node.attr, None) if isinstance(base, types.ModuleType) else None
        return None

    def _is_module(self, node: ast.AST) -> bool:
        return isinstance(self._resolve(node), types.ModuleType)

    def _module_function(self, node: ast.Call) -> str | None:
        """'load' for tl.load(...), gl.load(...), tma.async_copy_...(...): a function of a module."""
        func = node.func
        if isinstance(func, ast.Attribute) and self._is_module(func.value):
            return func.attr
        return None


def _function_tree(fn: Any) -> ast.FunctionDef | None:
    try:
        source = textwrap.dedent(inspect.getsource(fn))
        module = ast.parse(source)
    except (OSError, TypeError, SyntaxError):
        return None
    defs = [n for n in module.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    return defs[0] if defs else None


def _assignments(node: ast.AST) -> list[tuple[str, ast.AST]]:
    if isinstance(node, ast.Assign):
        return [(t.id, node.value) for t in node.targets if isinstance(t, ast.Name)]
    if isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name) and node.value:
        return [(node.target.id, node.value)]
    return []


def _argument(call: ast.Call, position: int, *names: str) -> ast.AST | None:
    if position < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args[:position + 1]):
        return call.args[position]
    for kw in call.keywords:
        if kw.arg in names:
            return kw.value
    return None


def _string_literals(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return [e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)]
    return []
