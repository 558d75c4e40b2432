"""Entry point: python3 -m tritonpack_plugingen CONFIG.py -o OUT.toml [--kernel NAME]."""

import sys

from tritonpack_plugingen.cli import main

if __name__ == "__main__":
    sys.exit(main())
