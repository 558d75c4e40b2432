"""tritonpack.load(pack): a pack's kernels as PyTorch ops, torch.ops.tritonpack.<plugin name> (docs/torch.md).

The ops live in the C++ op library libtritonpack_torch.so (adapters/torch), built against the
installed PyTorch. load() finds it, loads it into torch once (torch.ops.load_library), and asks
its helper op torch.ops.tritonpack.load_pack to register the pack's kernels. Where the library is
looked for, in order:
  1. the environment variable TRITONPACK_TORCH_LIBRARY (a path to the .so; a build tree's
     build/adapters/torch/libtritonpack_torch.so),
  2. beside this package: tritonpack/libtritonpack_torch.so or tritonpack/lib/libtritonpack_torch.so.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

LIBRARY_NAME = "libtritonpack_torch.so"
_lock = threading.Lock()
_loaded_library: str | None = None
_loaded_ops: list[str] = []  # every op load() returned, in order, once


class OpLibraryNotBuilt(ImportError):
    """tritonpack.load needs the PyTorch op library, which was not found (or torch is missing)."""


def library_path() -> Path:
    """The op library load() uses; raises OpLibraryNotBuilt naming every place looked at."""
    env = os.environ.get("TRITONPACK_TORCH_LIBRARY")
    if env:
        path = Path(env)
        if not path.is_file():
            raise OpLibraryNotBuilt(f"TRITONPACK_TORCH_LIBRARY={env} is not a file (build the op library: "
                                    "cmake -DTRITONPACK_TORCH_REQUIRED=ON, target tritonpack_torch)")
        return path
    here = Path(__file__).resolve().parent
    candidates = [here / LIBRARY_NAME, here / "lib" / LIBRARY_NAME]
    for path in candidates:
        if path.is_file():
            return path
    raise OpLibraryNotBuilt(
        "the PyTorch op library (adapters/torch) was not found: looked at "
        + ", ".join(str(p) for p in candidates)
        + "; set TRITONPACK_TORCH_LIBRARY to a built libtritonpack_torch.so (cmake -DTRITONPACK_TORCH_REQUIRED=ON)")


def _load_library():
    global _loaded_library
    try:
        import torch
    except ImportError as e:
        raise OpLibraryNotBuilt(f"tritonpack.load needs PyTorch, which cannot be imported here ({e})") from e
    with _lock:
        if _loaded_library is None:
            path = str(library_path())
            # Also registers the namespace tritonpack and its helper op load_pack; one copy per
            # process (a second copy under another path would register the namespace twice).
            torch.ops.load_library(path)
            _loaded_library = path
    return torch


def load(pack) -> list[str]:
    """Registers the kernels of `pack` (a .tpack path) that can be plugins as torch.ops.tritonpack.<name>
    and returns their qualified names ("tritonpack::tritonpack_fmha"). Loading the same pack again
    returns the same names; another pack whose op has a name already taken raises RuntimeError, as
    does a missing or corrupt pack (the runtime's message; every blob's hash is checked here)."""
    torch = _load_library()
    names = list(torch.ops.tritonpack.load_pack(os.fspath(pack)))
    with _lock:
        _loaded_ops.extend(n for n in names if n not in _loaded_ops)
    return names


def loaded_ops() -> list[str]:
    """The qualified names of the ops load() has registered in this process, in load order."""
    with _lock:
        return list(_loaded_ops)
