"""tritonpack: Triton kernels compiled ahead of time into packs, launched from C++ without Python.

This package is the Python side of an install (``pip install .`` from the repository): it
carries the ``tritonpack`` command (a C++ binary, bundled in the wheel) and the Python steps
that command runs (``tritonpack_compile``, ``tritonpack_init``, ``tritonpack_plugingen``).

    import tritonpack
    tritonpack.compile("kernels/vector_add/vector_add.toml", "vector_add.tpack", arch="sm_90")
    tritonpack.cli_path()      # the bundled command; `tritonpack ...` in a shell runs the same
    tritonpack.__version__     # the project's version (the repository's VERSION file)

``compile`` runs the bundled command, so it writes the same pack and fails with the same
message (as :class:`CompileError`). Compiling needs Triton (``pip install .[compile]``), and no
GPU. ``load("x.tpack")`` registers a pack's kernels as ``torch.ops.tritonpack.<name>`` through
the op library of adapters/torch (docs/torch.md); where that library is not found (the wheel does
not carry it yet: set ``TRITONPACK_TORCH_LIBRARY`` to a built ``libtritonpack_torch.so``) it
raises :class:`OpLibraryNotBuilt`. ``onnx_translations()`` is the ``custom_translation_table`` for
``torch.onnx.export(dynamo=True)`` that writes each loaded op as the node TensorRT's ONNX parser
builds the same kernel's plugin from (needs ``onnx`` and ``onnxscript``). See docs/install.md.
"""

from tritonpack._cli import CliNotFoundError, cli_path
from tritonpack._compile import CompileError, compile
from tritonpack._onnx import onnx_translations
from tritonpack._torch import OpLibraryNotBuilt, library_path, load, loaded_ops
from tritonpack._version import __version__

__all__ = ["CliNotFoundError", "CompileError", "OpLibraryNotBuilt", "__version__", "cli_path", "compile", "library_path", "load",
           "loaded_ops", "onnx_translations"]
