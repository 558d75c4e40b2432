"""tritonpack's compile step: turns a job file into cached cubin/PTX/meta folders.

The C++ CLI (`tritonpack compile`) writes a JSON job file, runs
`python3 -m tritonpack_compile JOBFILE`, reads the JSON-lines events on stdout and
then the per-job cache folders. docs/compile-step.md describes every format.

Nothing here imports Triton at module level: the cache check has to finish before
Triton is imported, so a fully cached job file costs only a Python start.
"""

# Part of every cache key: bump it whenever the output folder's content changes.
__version__ = "0.2.0"
