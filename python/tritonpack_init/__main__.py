"""Entry point: python3 -m tritonpack_init KERNEL.py:FUNCTION -o SPEC.toml [--force]."""

import sys

from tritonpack_init.cli import main

if __name__ == "__main__":
    sys.exit(main())
