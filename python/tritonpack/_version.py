"""tritonpack.__version__: the project's one version (the repository's VERSION file).

An installed package (pip or cmake --install) has it in _install_info.py, which CMake writes
from VERSION; in the source tree (python/ on PYTHONPATH) it is read from VERSION itself.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType
from typing import Optional


def install_info() -> Optional[ModuleType]:
    """tritonpack._install_info (version, and where the CLI is), written by CMake when tritonpack is
    installed; None in the source tree."""
    try:
        return importlib.import_module("tritonpack._install_info")
    except ModuleNotFoundError as e:
        if e.name != "tritonpack._install_info":
            raise
        return None


def _read_version() -> str:
    info = install_info()
    if info is not None:
        return info.version
    version_file = Path(__file__).resolve().parents[2] / "VERSION"
    try:
        return version_file.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ImportError(f"tritonpack: cannot tell its version: this copy of the package has no _install_info.py "
                          f"(written when tritonpack is installed) and {version_file} cannot be read ({e})") from None


__version__ = _read_version()
