"""Writes a starting kernel spec (TOML) from a Triton function's signature and decorators.

    python3 -m tritonpack_init KERNEL.py:FUNCTION -o SPEC.toml [--force]

The kernel file is imported (Triton must be installed; no GPU is needed), the function's
@triton.autotune and @triton.heuristics are taken apart down to the @triton.jit (or @gluon.jit)
function, and every parameter becomes a [[params]] table. What the source does not say is
guessed and marked `# DECIDE:`. Modules: loading (import, decorators), signature, usage (the
body), heuristics (lambdas -> expressions), guesses, spec_builder, toml_writer, cli.
docs/spec-format.md ("tritonpack init") describes the output.
"""
