"""Command line of `tritonpack init` (the C++ CLI runs `python3 -m tritonpack_init ...`).

Exit codes: 0 the spec was written; 1 it was not written because of the output (the file exists
and --force is not given, or it cannot be written); 2 the kernel cannot be read (a malformed
KERNEL.py:FUNCTION, a file that fails to import, no such function, not a Triton function, Triton
missing) or a usage error. Errors are one message on stderr starting with "init: ".
"""

from __future__ import annotations

import argparse
import os
import sys

from tritonpack_common.files import OutputError, check_output, write_output

EXIT_OK = 0
EXIT_NOT_WRITTEN = 1
EXIT_BAD_KERNEL = 2
PREFIX = "init: "


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="tritonpack init",
        description="Write a starting kernel spec (TOML) from a Triton function's signature, its "
                    "@triton.autotune configs and @triton.heuristics. Guesses are marked '# DECIDE:'. "
                    "Imports the kernel file (Triton needed, no GPU).")
    parser.add_argument("kernel", metavar="KERNEL.py:FUNCTION", help="the kernel file and the function in it")
    parser.add_argument("-o", "--output", required=True, metavar="SPEC.toml", help="the spec file to write")
    parser.add_argument("--force", action="store_true", help="overwrite SPEC.toml if it exists")
    return parser.parse_args(argv)  # exits 2 on a usage error


def split_target(target: str) -> tuple[str, str]:
    """'path/k.py:fn' -> ('path/k.py', 'fn'); the last ':' splits, so a Windows drive letter stays."""
    path, sep, function = target.rpartition(":")
    if not sep or not path or not function.isidentifier():
        raise ValueError(f"{target!r} is not KERNEL.py:FUNCTION (for example kernels/add.py:add_kernel)")
    return path, function


def run(target: str, output: str, force: bool) -> None:
    """Reads the kernel and writes the spec. Raises ValueError, InitError or OutputError."""
    path, function = split_target(target)
    spec_dir = check_output(output, force)
    # The interpreter replaces @triton.jit with an emulation that has no signature to read.
    os.environ.pop("TRITON_INTERPRET", None)
    from tritonpack_init.loading import load_kernel
    from tritonpack_init.spec_builder import build_spec

    kernel = load_kernel(path, function)
    text = build_spec(kernel, spec_dir, f"tritonpack init {target}")
    write_output(output, text)


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        import triton  # noqa: F401  (checked first: every later step needs it)
    except ImportError as e:
        print(f"{PREFIX}Triton is not installed for {sys.executable} ({e}); install it "
              "(pip install triton) to read kernels", file=sys.stderr)
        return EXIT_BAD_KERNEL
    from tritonpack_init.loading import InitError

    try:
        run(args.kernel, args.output, args.force)
    except OutputError as e:
        print(f"{PREFIX}{e}", file=sys.stderr)
        return EXIT_NOT_WRITTEN
    except (ValueError, InitError) as e:
        print(f"{PREFIX}{args.kernel}: {e}", file=sys.stderr)
        return EXIT_BAD_KERNEL
    except KeyboardInterrupt:
        print(f"{PREFIX}interrupted", file=sys.stderr)
        return 130
    return EXIT_OK
