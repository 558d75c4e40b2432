"""Entry point: python3 -m tritonpack_compile JOBFILE [--parallel N] [--no-cache]."""

import sys

from tritonpack_compile.cli import main

# The guard matters: worker processes are started with 'spawn', which imports this
# module again under the name __mp_main__.
if __name__ == "__main__":
    sys.exit(main())
