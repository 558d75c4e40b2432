"""Pieces of TOML text that every spec writer needs: string literals, comments, source paths."""

from __future__ import annotations

import os

_SHORT_ESCAPES = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r", "\b": "\\b", "\f": "\\f"}


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
