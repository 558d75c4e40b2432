"""Helpers shared by tritonpack's Python packages (compile step, PluginGen importer, init).

Each module is small and imports nothing heavy (no Triton), so any package may use it:
    kernel_import  import a kernel file as a module; the tail of a traceback; is a function Gluon
    files          write a file atomically; check an output path first
    dtypes         the dtype names of specs and job files, and Triton's names for them
    toml_text      TOML keys, values and comment text; paths as a spec file writes them
"""
