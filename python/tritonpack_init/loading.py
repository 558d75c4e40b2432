"""Importing the kernel file and taking the decorators apart, down to the JITFunction.

    @triton.autotune(configs=[...], key=[...])    -> Autotune (the configs and the key)
    @triton.heuristics({'BLOCK': lambda args: ...}) -> heuristics: constexpr name -> callable
    @triton.jit / @gluon.jit                        -> the JITFunction itself

Every problem raises InitError with a complete message.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from typing import Any, Callable

from tritonpack_common.kernel_import import import_kernel_file, traceback_tail


_PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class InitError(Exception):
    """init cannot go on; str(e) is the whole message."""


@dataclass
class Autotune:
    configs: list[Any]          # triton.Config objects, in the decorator's order
    key: list[str]
    unsupported: list[str]      # the decorator's features a spec does not carry (pre_hook, ...)


@dataclass
class LoadedKernel:
    path: str                   # absolute path of the kernel file
    function: str
    jit: Any                    # the JITFunction (a GluonJITFunction for @gluon.jit)
    autotune: Autotune | None
    heuristics: dict[str, Callable[..., Any]] = field(default_factory=dict)


def load_kernel(path: str, function: str) -> LoadedKernel:
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise InitError(f"{path} does not exist or is not a file")
    module = _import(path)
    obj = getattr(module, function, None)
    if obj is None:
        defined = ", ".join(_kernels_in(module)) or "no Triton function"
        raise InitError(f"{path} defines no {function!r} (it defines: {defined})")
    return _unwrap(obj, path, function)


def _import(path: str) -> Any:
    # A fixed name per file, so the kernel's own imports cannot collide with it.
    name = "tritonpack_init_kernel_" + hashlib.sha256(path.encode()).hexdigest()[:16]
    try:
        return import_kernel_file(path, name)
    except BaseException as e:  # noqa: BLE001 (a kernel file may raise anything, SystemExit too)
        if isinstance(e, KeyboardInterrupt):
            raise
        raise InitError(f"importing {path} failed ({type(e).__name__}: {str(e).strip() or 'no message'}). "
                        "init runs the file as Python to read the function's decorators, so it must "
                        f"import without errors (with its folder on sys.path).{_driver_hint(e)} "
                        "The traceback's end:\n"
                        f"{traceback_tail(e, lines=12, hide=_is_machinery)}") from None


def _driver_hint(e: BaseException) -> str:
    # Triton's message when module-level code asks for the GPU (triton.runtime.driver.active...).
    if "active drivers" not in str(e):
        return ""
    return (" The file asks Triton for the GPU driver while it is imported, and init runs without a GPU: "
            "move that code into a function or under `if __name__ == \"__main__\":`.")


def _is_machinery(filename: str) -> bool:
    """Frames of the import machinery and of tritonpack itself, which say nothing about the kernel."""
    return filename.startswith("<frozen") or os.path.dirname(os.path.dirname(os.path.abspath(filename))) == _PYTHON_DIR


def _kernels_in(module: Any) -> list[str]:
    from triton.runtime.autotuner import Autotuner, Heuristics
    from triton.runtime.jit import JITFunction

    kinds = (JITFunction, Autotuner, Heuristics)
    return [n for n, v in vars(module).items() if isinstance(v, kinds)]


def _unwrap(obj: Any, path: str, function: str) -> LoadedKernel:
    from triton.runtime.autotuner import Autotuner, Heuristics
    from triton.runtime.jit import JITFunction

    autotune = None
    heuristics: dict[str, Callable[..., Any]] = {}
    while not isinstance(obj, JITFunction):
        if isinstance(obj, Autotuner):
            if autotune is not None:
                raise InitError(f"{function} in {path} has two @triton.autotune decorators; init reads one")
            autotune = _read_autotune(obj)
        elif isinstance(obj, Heuristics):
            # Inner decorators run later and overwrite outer ones, so they win here too.
            heuristics.update(obj.values)
        else:
            raise InitError(f"{function} in {path} is not a Triton kernel: it is a {type(obj).__name__}, "
                            "not a @triton.jit or @gluon.jit function")
        obj = obj.fn
    return LoadedKernel(path, function, obj, autotune, heuristics)


def _read_autotune(tuner: Any) -> Autotune:
    unsupported = []
    if getattr(tuner, "user_defined_pre_hook", False):
        unsupported.append("pre_hook")
    if getattr(tuner, "user_defined_post_hook", False):
        unsupported.append("post_hook")
    for attr in ("reset_to_zero", "restore_value"):
        if getattr(tuner, attr, None):
            unsupported.append(f"{attr}={list(getattr(tuner, attr))}")
    if getattr(tuner, "early_config_prune", None) or getattr(tuner, "perf_model", None):
        unsupported.append("prune_configs_by")
    return Autotune(list(tuner.configs), [str(k) for k in (tuner.keys or [])], unsupported)
