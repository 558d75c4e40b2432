"""tritonpack: Triton kernels compiled ahead of time into packs, launched without Python.

``tritonpack.load("x.tpack")`` registers the pack's kernels as ``torch.ops.tritonpack.<name>``
(docs/torch.md). This minimal package file is the PyTorch branch's; the Python package's own
``__init__`` (compile, the CLI, the version) replaces it when the branches merge, importing
``load`` and ``OpLibraryNotBuilt`` from ``tritonpack._torch``.
"""

from tritonpack._torch import OpLibraryNotBuilt, library_path, load

__all__ = ["OpLibraryNotBuilt", "library_path", "load"]
