"""python -m tritonpack ARGS...: the same as the `tritonpack` command."""

from tritonpack._cli import main

main()
