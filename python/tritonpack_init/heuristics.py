"""@triton.heuristics lambdas -> expressions of the spec's language (docs/expressions.md).

The callable's source is found with `inspect` and parsed with `ast`; only this subset translates:
    args['x'] / args["x"]          -> x   (an i32/i64 scalar or constexpr parameter)
    integer literals, unary -, + - * // %  (Python's // floors like the spec's /)
    ==  !=  <  <=  >  >=  and  x in (a, b)  -> x in {a, b}   (one comparison, no chains)
    triton.next_power_of_2, triton.cdiv, min, max, abs, math.log2, int(math.log2(...))
Anything else raises Untranslatable with the reason; the spec then keeps the source in a comment.
"""

from __future__ import annotations

import ast
import inspect
from dataclasses import dataclass
from typing import Any, Callable

# Python callee (last dotted part) -> (fewest, most arguments); the spec's function has its name.
_FUNCTIONS = {"next_power_of_2": (1, 1), "cdiv": (2, 2), "min": (2, None), "max": (2, None),
              "abs": (1, 1), "log2": (1, 1)}
_MODULES_OF = {"next_power_of_2": ("triton",), "cdiv": ("triton",), "log2": ("math",)}
_BINARY = {ast.Add: ("+", 1), ast.Sub: ("-", 1), ast.Mult: ("*", 2), ast.FloorDiv: ("/", 2), ast.Mod: ("%", 2)}
_COMPARE = {ast.Eq: "==", ast.NotEq: "!=", ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">="}
_COMPARISON, _UNARY, _ATOM = 0, 3, 4  # precedence levels; sums are 1, products 2


class Untranslatable(Exception):
    """str(e) says why; `source` is the callable's text (one line) when it was found."""

    def __init__(self, reason: str, source: str = "") -> None:
        super().__init__(reason)
        self.source = source


@dataclass
class Translation:
    expression: str
    source: str          # the Python text it came from, on one line
    is_comparison: bool  # gives 0 or 1


def translate(target: str, fn: Callable[..., Any], integer_names: set[str]) -> Translation:
    """The expression for heuristic `target`; `integer_names`: the names an expression may use."""
    node, source = _find_source(target, fn)
    arg_name, body = _parameter_and_body(node, source)
    try:
        text, level = _Translator(arg_name, integer_names).expr(body)
    except Untranslatable as e:
        raise Untranslatable(str(e), source) from None
    return Translation(text, source, level == _COMPARISON)


# -- finding the callable's source ----------------------------------------------------------------


def _find_source(target: str, fn: Callable[..., Any]) -> tuple[ast.AST, str]:
    try:
        lines, first = inspect.findsource(fn)  # the whole file, and the callable's 0-based line
    except (OSError, TypeError) as e:
        raise Untranslatable(f"its source cannot be read ({e})") from None
    text = "".join(lines)
    try:
        tree = ast.parse(text)
    except SyntaxError:
        raise Untranslatable("its file does not parse") from None
    node = _node_at(tree, target, fn, first + 1)
    if node is None:
        raise Untranslatable("its definition could not be found in the source")
    return node, " ".join((ast.get_source_segment(text, node) or "").split())


def _node_at(tree: ast.AST, target: str, fn: Callable[..., Any], line: int) -> ast.AST | None:
    if getattr(fn, "__name__", "") != "<lambda>":
        defs = [n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == fn.__name__
                and line in (n.lineno, *(d.lineno for d in n.decorator_list))]
        return defs[0] if len(defs) == 1 else None
    on_line = [n for n in ast.walk(tree) if isinstance(n, ast.Lambda) and n.lineno == line]
    # Several lambdas on one line: the one given for `target` in a dict or dict(...) call.
    keyed = [n for n in on_line if n in _lambdas_keyed_by(tree, target)]
    candidates = keyed or on_line
    return candidates[0] if len(candidates) == 1 else None


def _lambdas_keyed_by(tree: ast.AST, target: str) -> list[ast.AST]:
    found = []
    for n in ast.walk(tree):
        if isinstance(n, ast.Dict):
            found += [v for k, v in zip(n.keys, n.values) if isinstance(k, ast.Constant) and k.value == target]
        elif isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "dict":
            found += [kw.value for kw in n.keywords if kw.arg == target]
    return found


def _parameter_and_body(node: ast.AST, source: str) -> tuple[str, ast.AST]:
    params = node.args.posonlyargs + node.args.args
    if len(params) != 1:
        raise Untranslatable("it does not take exactly one argument (the dict of kernel arguments)", source)
    if isinstance(node, ast.Lambda):
        return params[0].arg, node.body
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if len(body) != 1 or not isinstance(body[0], ast.Return) or body[0].value is None:
        raise Untranslatable("the function is more than one `return <expression>`", source)
    return params[0].arg, body[0].value


# -- the translation ------------------------------------------------------------------------------


class _Translator:
    """Python expression -> (spec text, precedence level), fewest parentheses."""

    def __init__(self, arg_name: str, integer_names: set[str]) -> None:
        self.arg_name = arg_name
        self.integer_names = integer_names

    def expr(self, node: ast.AST) -> tuple[str, int]:
        if isinstance(node, ast.Constant) and type(node.value) is int:
            return str(node.value), _ATOM
        if isinstance(node, ast.Subscript):
            return self._argument(node), _ATOM
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return "-" + self._operand(node.operand, _UNARY), _UNARY
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._binary(node)
        if isinstance(node, ast.Compare):
            return self._compare(node), _COMPARISON
        if isinstance(node, ast.Call):
            return self._call(node)
        raise Untranslatable(f"{_describe(node)} has no counterpart in the spec's expression language")

    def _operand(self, node: ast.AST, min_level: int) -> str:
        text, level = self.expr(node)
        return text if level >= min_level else f"({text})"

    def _binary(self, node: ast.BinOp) -> tuple[str, int]:
        op, level = _BINARY[type(node.op)]
        # Left-associative: the right operand needs parentheses at its own level (a - (b - c)).
        return f"{self._operand(node.left, level)} {op} {self._operand(node.right, level + 1)}", level

    def _compare(self, node: ast.Compare) -> str:
        if len(node.ops) != 1:
            raise Untranslatable("a chained comparison needs `and`, which the spec's language lacks")
        left = self._operand(node.left, 1)
        op, right = node.ops[0], node.comparators[0]
        if isinstance(op, ast.In) and isinstance(right, (ast.Tuple, ast.List, ast.Set)) and right.elts:
            return f"{left} in {{{', '.join(self._operand(e, 1) for e in right.elts)}}}"
        if type(op) not in _COMPARE:
            raise Untranslatable(f"the comparison {type(op).__name__} has no counterpart in the spec's language")
        return f"{left} {_COMPARE[type(op)]} {self._operand(right, 1)}"

    def _argument(self, node: ast.Subscript) -> str:
        key = node.slice
        if not (isinstance(node.value, ast.Name) and node.value.id == self.arg_name
                and isinstance(key, ast.Constant) and isinstance(key.value, str)):
            raise Untranslatable(f"{_describe(node)} is not {self.arg_name}['<parameter>']")
        if key.value not in self.integer_names:
            raise Untranslatable(f"{key.value!r} is not an i32/i64 scalar or constexpr parameter")
        return key.value

    def _call(self, node: ast.Call) -> tuple[str, int]:
        name = _callee(node.func)
        if name == "int" and len(node.args) == 1 and not node.keywords:
            # Every value here is an integer except math.log2's, and the spec's log2 floors it.
            return self.expr(node.args[0])
        if name not in _FUNCTIONS or node.keywords:
            raise Untranslatable(f"{_describe(node)}: only {', '.join(sorted(_FUNCTIONS))} and int() translate")
        fewest, most = _FUNCTIONS[name]
        if len(node.args) < fewest or (most is not None and len(node.args) > most):
            raise Untranslatable(f"{_describe(node)} has {len(node.args)} arguments")
        return f"{name}({', '.join(self.expr(a)[0] for a in node.args)})", _ATOM


def _callee(func: ast.AST) -> str:
    """'next_power_of_2' for triton.next_power_of_2 or a bare next_power_of_2; '' otherwise."""
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.attr if func.value.id in _MODULES_OF.get(func.attr, ()) else ""
    return ""


def _describe(node: ast.AST) -> str:
    text = ast.unparse(node)
    return f"`{text}`" if len(text) <= 60 else f"`{text[:57]}...`"

