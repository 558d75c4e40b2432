"""Command line of the PluginGen importer.

Exit codes: 0 converted, 1 conversion error (one message on stderr, starting with
"import-plugingen: <config>: "), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys

from tritonpack_common.files import OutputError, check_output, write_output
from tritonpack_plugingen.convert import ConversionError, convert, load_config, pick_kernel

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
PREFIX = "import-plugingen: "


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m tritonpack_plugingen",
        description="Convert a TensorRT-LLM PluginGen kernel config (a Python file with KERNELS) "
                    "into a tritonpack kernel spec (TOML). Needs no TensorRT-LLM and no Triton.")
    parser.add_argument("config", help="the PluginGen config file (Python)")
    parser.add_argument("-o", "--output", required=True, help="the spec file to write (TOML)")
    parser.add_argument("--kernel", help="the kernel_name to convert when KERNELS has several")
    return parser.parse_args(argv)  # exits 2 on a usage error


def run(config: str, output: str, kernel_name: str | None) -> str:
    """Converts and writes; returns the kernel's name. Raises ConversionError or OutputError."""
    out_dir = check_output(output, force=True)  # the importer replaces an existing output
    kernel = pick_kernel(load_config(config), kernel_name)
    write_output(output, convert(kernel, config, out_dir))
    return kernel.kernel_name


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        run(args.config, args.output, args.kernel)
    except (ConversionError, OutputError) as e:
        print(f"{PREFIX}{args.config}: {e}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        print(f"{PREFIX}interrupted", file=sys.stderr)
        return 130
    return EXIT_OK
