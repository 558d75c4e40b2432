"""Finding Triton and its version without importing it.

Importing Triton costs about half a second; the version alone is enough for the
cache key, and a fully cached job file must not pay for the import.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import re
import sys

MIN_TRITON = (3, 3)
PINNED_TRITON = "3.6.0"  # the version the project is tested with, suggested in messages

# PyTorch's wheels ship Triton under other distribution names.
_DISTRIBUTIONS = ("triton", "pytorch-triton", "triton-nightly", "pytorch-triton-rocm")


class ToolchainError(Exception):
    """Triton is missing or unusable; the message says how to fix it."""


def _install_hint() -> str:
    return f"install it with: {sys.executable} -m pip install triton=={PINNED_TRITON}"


def parse_version(text: str) -> tuple[int, ...]:
    """'3.6.0' -> (3, 6, 0); '3.3.0+git96316ce5' -> (3, 3, 0). Raises ValueError."""
    m = re.match(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    if not m:
        raise ValueError(f"unrecognized version {text!r}")
    return tuple(int(g) for g in m.groups() if g is not None)


def check_version(version: str) -> None:
    """Raises ToolchainError when `version` is older than MIN_TRITON or unreadable."""
    try:
        parsed = parse_version(version)
    except ValueError:
        raise ToolchainError(f"tritonpack: cannot read Triton's version {version!r}; {_install_hint()}") from None
    if parsed[:2] < MIN_TRITON:
        need = ".".join(map(str, MIN_TRITON))
        raise ToolchainError(
            f"tritonpack: Triton {version} is too old for {sys.executable}; tritonpack needs Triton >= {need} "
            f"(the kernel ABI with hidden scratch pointers); {_install_hint()}")


def triton_version() -> str:
    """Triton's version string, read from package metadata when possible. Raises ToolchainError."""
    for dist in _DISTRIBUTIONS:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
        check_version(version)
        return version
    # A source checkout on PYTHONPATH has no distribution metadata: only then import it.
    if importlib.util.find_spec("triton") is not None:
        try:
            import triton  # noqa: PLC0415 (deliberately late)
            version = str(triton.__version__)
        except Exception as e:  # a broken install: say so instead of a traceback
            raise ToolchainError(f"tritonpack: Triton is installed for {sys.executable} but fails to import "
                                 f"({type(e).__name__}: {e}); {_install_hint()}") from None
        check_version(version)
        return version
    raise ToolchainError(f"tritonpack: Triton is not installed for {sys.executable}; {_install_hint()}")
