"""Converts a TensorRT-LLM PluginGen kernel config into a tritonpack kernel spec (TOML).

    python3 -m tritonpack_plugingen CONFIG.py -o OUT.toml [--kernel NAME]

The config is run with this package's stand-ins for PluginGen's classes (core.py) installed
as tensorrt_llm.tools.plugin_gen.core, so no TensorRT-LLM (and no Triton) is needed.
convert.py holds the rules; docs/spec-format.md describes the output.
"""
