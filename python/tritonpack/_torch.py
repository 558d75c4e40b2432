"""The place of tritonpack.load(pack): a pack's kernels as PyTorch ops (torch.ops.tritonpack.<name>).

That needs the C++ op library of adapters/torch (issue 9, item 1), built against the installed
PyTorch, which this package does not have yet. Until it is added, load() says so. The engineer
adding it replaces load() here with the function that loads the op library and registers the
pack, and adds the library's install component to pyproject.toml ([tool.scikit-build]
install.components); `pip install .[torch]` brings PyTorch.
"""

from __future__ import annotations


class OpLibraryNotBuilt(ImportError):
    """tritonpack.load needs the PyTorch op library, which this install of tritonpack does not have."""


def load(pack) -> None:
    """Registers the kernels of `pack` as torch.ops.tritonpack.<name>. Not available in this install:
    always raises OpLibraryNotBuilt."""
    raise OpLibraryNotBuilt(
        f"tritonpack.load({str(pack)!r}): the PyTorch op library (adapters/torch) is not built in this install of "
        "tritonpack, so packs cannot be loaded as torch ops; tritonpack.compile and the C++ runtime work without it")
