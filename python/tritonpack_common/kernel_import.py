"""Importing a user's kernel file the way `python3 kernel.py` would see its folder."""

from __future__ import annotations

import importlib.util
import os
import sys
import traceback
from types import ModuleType
from typing import Any, Callable


def import_kernel_file(path: str, module_name: str) -> ModuleType:
    """Runs `path` as the module `module_name` and returns it. Raises whatever the file raises.

    The file's folder goes first on sys.path so the kernel can import its sibling modules, and the
    module is registered in sys.modules because Triton and `inspect` look functions up there.
    """
    folder = os.path.dirname(os.path.abspath(path))
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(module_name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"{path} cannot be loaded as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    return module


def is_gluon(fn: Any) -> bool:
    """True for a @gluon.jit function (a GluonJITFunction); Triton < 3.5 has no Gluon."""
    method = getattr(fn, "is_gluon", None)
    return bool(method()) if callable(method) else False


def traceback_tail(e: BaseException, lines: int = 30, hide: Callable[[str], bool] | None = None) -> str:
    """The last lines of the full traceback, exception line included.

    `hide(filename)` drops frames the reader does not need (the importer's own, importlib's).
    """
    report = traceback.TracebackException.from_exception(e)
    if hide is not None:
        report.stack = traceback.StackSummary.from_list([f for f in report.stack if not hide(f.filename)])
    text = "".join(report.format()).rstrip()
    return "\n".join(text.splitlines()[-lines:])
