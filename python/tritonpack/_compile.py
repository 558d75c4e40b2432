"""tritonpack.compile: `tritonpack compile` from Python.

It runs the CLI (tritonpack.cli_path()) rather than the compile step itself, so that a pack
made from Python is the one the command makes, and a failure carries the command's message.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Iterable, Optional, Union

from tritonpack._cli import cli_environment, cli_path

PathLike = Union[str, "os.PathLike[str]"]


class CompileError(RuntimeError):
    """`tritonpack compile` failed. str(error) is what the CLI printed on stderr; `returncode` is
    its exit status and `command` the command line."""

    def __init__(self, message: str, returncode: int, command: list):
        super().__init__(message)
        self.returncode = returncode
        self.command = command


def compile(spec: PathLike, out: PathLike, *, arch: Union[None, str, Iterable[str]] = None, keep_ir: bool = False,
            jobs: Optional[int] = None, cache_dir: Optional[PathLike] = None, no_cache: bool = False,
            python: Optional[str] = None) -> Path:
    """Compiles the kernel spec `spec` (TOML) into the pack `out`: `tritonpack compile SPEC -o OUT`.

    arch: "sm_90" or a list of them, instead of the spec's archs (--arch); keep_ir: store each
    variant's Triton IR (--keep-ir); jobs: parallel compilations (-j, default all cores);
    cache_dir: the compile cache (--cache-dir, default $TRITONPACK_CACHE_DIR or ~/.cache/tritonpack);
    no_cache: recompile every variant (--no-cache); python: the interpreter with Triton (--python,
    default this one). Needs Triton in that interpreter, no GPU. Returns Path(out); raises
    CompileError with the CLI's message when it fails.
    """
    command = [cli_path(), "compile", os.fspath(spec), "-o", os.fspath(out), "--quiet"]
    if arch is not None:
        for a in [arch] if isinstance(arch, str) else list(arch):
            command += ["--arch", a]
    if keep_ir:
        command.append("--keep-ir")
    if jobs is not None:
        command += ["--jobs", str(int(jobs))]
    if cache_dir is not None:
        command += ["--cache-dir", os.fspath(cache_dir)]
    if no_cache:
        command.append("--no-cache")
    if python is not None:
        command += ["--python", python]
    result = subprocess.run(command, env=cli_environment(), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, errors="replace")
    sys.stdout.write(result.stdout)
    if result.returncode != 0:
        message = result.stderr.strip() or f"tritonpack compile exited with status {result.returncode}"
        raise CompileError(message, result.returncode, command)
    sys.stderr.write(result.stderr)  # what Triton warned about, if anything
    return Path(out)
