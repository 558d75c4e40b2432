"""Writing output files so that a failure never leaves half a file behind.

check_output() and write_output() are what a command that writes one file (init, the PluginGen
importer) needs around write_atomically(): refuse early what cannot be written, and turn an
OSError into a message.
"""

from __future__ import annotations

import os
import tempfile


def write_atomically(path: str, text: str) -> None:
    """Writes a temporary file next to `path`, then renames it over `path`."""
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


class OutputError(Exception):
    """The output file cannot be written where asked; str(e) is the whole message."""


def check_output(output: str, force: bool) -> str:
    """The output's folder; raises OutputError, before any work, when `output` cannot be written.

    Without `force` an existing file is refused too.
    """
    folder = os.path.dirname(os.path.abspath(output))
    if not os.path.isdir(folder):
        raise OutputError(f"cannot write {output}: the folder {folder} does not exist")
    if os.path.isdir(output):
        raise OutputError(f"cannot write {output}: it is a folder")
    if os.path.exists(output) and not force:
        raise OutputError(f"{output} exists; pass --force to overwrite it")
    return folder


def write_output(output: str, text: str) -> None:
    """write_atomically(), with an OSError raised as OutputError."""
    try:
        write_atomically(output, text)
    except OSError as e:
        raise OutputError(f"cannot write {output}: {e.strerror or e}") from None
