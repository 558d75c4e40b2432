"""Finding and running the tritonpack command (the C++ CLI).

pip installs the CLI inside this package (tritonpack/bin/tritonpack) and a `tritonpack` script
that runs it (main below); `cmake --install` puts it in <prefix>/bin. Either way CMake writes
where it is, relative to this package's folder, into _install_info.py.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tritonpack._version import install_info


class CliNotFoundError(FileNotFoundError):
    """The tritonpack CLI is not where this package looks for it; the message names each place."""


def cli_path() -> str:
    """The path of the tritonpack CLI that this package runs.

    $TRITONPACK_CLI if set (it must be an executable); else the CLI installed with this package.
    Raises CliNotFoundError naming the places it looked in.
    """
    tried = []
    from_env = os.environ.get("TRITONPACK_CLI", "")
    if from_env:
        if os.path.isfile(from_env) and os.access(from_env, os.X_OK):
            return from_env
        raise CliNotFoundError(f"tritonpack: $TRITONPACK_CLI is {from_env!r}, which is not an executable file "
                               "(when it is set, no other place is looked in)")
    tried.append("$TRITONPACK_CLI: not set")
    info = install_info()
    if info is None:
        tried.append(f"the CLI installed with this package: none, {Path(__file__).parent} is not an installed "
                     "package (no _install_info.py: it is the source tree's)")
    else:
        installed = (Path(__file__).resolve().parent.parent / info.cli).resolve()
        if installed.is_file() and os.access(installed, os.X_OK):
            return str(installed)
        tried.append(f"the CLI installed with this package: {installed} is missing or not executable")
    raise CliNotFoundError("tritonpack: cannot find the tritonpack CLI; looked in:\n  " + "\n  ".join(tried) +
                           "\nreinstall tritonpack (pip install .), or set TRITONPACK_CLI to a built tritonpack binary")


def cli_environment() -> dict:
    """The environment the CLI runs in: this one, with $TRITONPACK_PYTHON set to this interpreter
    unless it is set already, so that the Python steps the CLI starts (compile, init) run where
    tritonpack is installed (and Triton, with `pip install tritonpack[compile]`), not in whatever
    python3 comes first on PATH."""
    env = dict(os.environ)
    if not env.get("TRITONPACK_PYTHON") and sys.executable:
        env["TRITONPACK_PYTHON"] = sys.executable
    return env


def main() -> None:
    """The `tritonpack` script: runs the CLI with this process's arguments, in its place."""
    try:
        cli = cli_path()
    except CliNotFoundError as e:
        sys.stderr.write(f"{e}\n")
        sys.exit(127)
    try:
        os.execve(cli, ["tritonpack", *sys.argv[1:]], cli_environment())
    except OSError as e:
        sys.stderr.write(f"tritonpack: cannot run the CLI {cli}: {e.strerror}\n")
        sys.exit(126)
