"""Pieces of TOML text that every spec writer needs: keys, values, comments, source paths."""

from __future__ import annotations

import math
import os
import re
from typing import Any

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")
_INT64 = (-(2**63), 2**63 - 1)


class TomlTextError(ValueError):
    """A value TOML cannot hold; str(e) is the whole message."""


def toml_string(s: str) -> str:
    """A TOML basic string: JSON-compatible escapes, plus DEL, which TOML also requires escaped."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\u{code:04x}")
        elif 0xD800 <= code <= 0xDFFF:
            raise TomlTextError(f"the string {s!r} holds a lone surrogate, which TOML cannot store")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def key_text(key: str) -> str:
    """A key: bare when TOML allows it, else quoted."""
    return key if _BARE_KEY.match(key) else toml_string(key)


def value_text(value: Any) -> str:
    """A value: string, integer, float, boolean, array or inline table (of these).

    Raises TomlTextError (a ValueError) for a string or integer TOML cannot hold, TypeError for
    any other type.
    """
    if isinstance(value, bool):  # before int: bool is a subclass of int
        return "true" if value else "false"
    if isinstance(value, int):
        if not _INT64[0] <= value <= _INT64[1]:
            raise TomlTextError(f"the integer {value} does not fit in TOML's 64 bits")
        return str(value)
    if isinstance(value, float):
        return _float_text(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(value_text(v) for v in value) + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ " + ", ".join(f"{key_text(str(k))} = {value_text(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"no TOML form for a {type(value).__name__}: {value!r}")


def _float_text(value: float) -> str:
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    text = repr(value)  # the shortest text that reads back as the same double
    return text if any(c in text for c in ".en") else text + ".0"


def comment_text(s: str) -> str:
    """Text safe inside a TOML comment: no control characters (a newline would end it)."""
    return "".join(ch if ch == "\t" or (ord(ch) >= 0x20 and ord(ch) != 0x7F) else "?" for ch in s)


def path_from_spec(path: str, spec_dir: str) -> str:
    """`path` as a spec in `spec_dir` names it: relative, or absolute when they share only the root."""
    path = os.path.abspath(path)
    spec_dir = os.path.abspath(spec_dir)
    try:
        common = os.path.commonpath([path, spec_dir])
    except ValueError:  # different drives
        return path
    if os.path.dirname(common) == common:  # only the root (or drive) in common
        return path
    return os.path.relpath(path, spec_dir).replace(os.sep, "/")
