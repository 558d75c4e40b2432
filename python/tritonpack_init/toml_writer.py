"""A small TOML writer for specs: tables of `key = value` lines with comments between them.

It writes only what a spec needs (strings, integers, floats, booleans, arrays, inline tables), with
tritonpack_common.toml_text's key_text and value_text, so any text from a kernel file stays valid TOML.
"""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Any, Union

from tritonpack_common.toml_text import comment_text, key_text, value_text

COMMENT_WIDTH = 100
DECIDE = "DECIDE: "


@dataclass
class Entry:
    key: str
    value: Any


@dataclass
class Comment:
    text: str


@dataclass
class Table:
    """`[name]`, `[[name]]` when `array`, or the top level when `name` is None."""

    name: str | None
    array: bool = False
    above: list[Comment] = field(default_factory=list)  # comments written above the header
    lines: list[Union[Entry, Comment]] = field(default_factory=list)

    def add(self, key: str, value: Any) -> None:
        self.lines.append(Entry(key, value))

    def comment(self, text: str) -> None:
        self.lines.append(Comment(text))

    def decide(self, text: str) -> None:
        """A guess the user must check: `# DECIDE: <what to decide>`."""
        self.lines.append(Comment(DECIDE + text))

    def comment_above(self, text: str) -> None:
        self.above.append(Comment(text))

    def decide_above(self, text: str) -> None:
        self.above.append(Comment(DECIDE + text))


def render(tables: list[Table]) -> str:
    """The document's text; tables are separated by one blank line."""
    blocks = []
    for table in tables:
        lines = [text for c in table.above for text in _comment_lines(c.text)]
        if table.name is not None:
            lines.append(_header(table))
        for line in table.lines:
            lines.extend(_comment_lines(line.text) if isinstance(line, Comment)
                         else [f"{key_text(line.key)} = {value_text(line.value)}"])
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def _header(table: Table) -> str:
    name = ".".join(key_text(part) for part in table.name.split("."))
    return f"[[{name}]]" if table.array else f"[{name}]"


def _comment_lines(text: str) -> list[str]:
    """One comment, wrapped; continuation lines are indented so they read as one note."""
    wrapped = textwrap.wrap(comment_text(text), width=COMMENT_WIDTH - 2, subsequent_indent="  ",
                            break_long_words=False, break_on_hyphens=False) or [""]
    return [f"# {line}".rstrip() for line in wrapped]
