"""Compiles one job in a worker process and publishes its cache folder.

Runs in processes started by cli.py ('spawn' context). Each worker imports Triton
and the kernel module once, on its first job. Everything here turns failures into
a result message: the parent only reports them.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import traceback
from typing import Any

from tritonpack_common.kernel_import import import_kernel_file, traceback_tail
from tritonpack_compile import abi, cache
from tritonpack_compile.jobs import Job

# Kernel modules loaded in this process: (path, sha256) -> module or the load error text.
_modules: dict[tuple[str, str], Any] = {}


def init_worker(no_cache: bool) -> None:
    """Process initializer: keeps stdout for the parent's events only."""
    # Triton, MLIR and ptxas print to fd 1 directly (warnings, diagnostics); the parent's
    # stdout carries the event protocol, so this process's fd 1 becomes its stderr.
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # The interpreter mode replaces @triton.jit with a Python emulation that cannot compile.
    os.environ.pop("TRITON_INTERPRET", None)
    if no_cache:
        # --no-cache means a real recompile, so Triton's own cache is bypassed too.
        os.environ["TRITON_ALWAYS_COMPILE"] = "1"


class JobFailure(Exception):
    """A job cannot compile; the message is complete and shown as is."""


def _file_sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def _load_kernel_module(path: str, source_sha256: str) -> Any:
    key = (path, source_sha256)
    if key not in _modules:
        try:
            _modules[key] = import_kernel_file(path, f"tritonpack_kernel_{source_sha256[:16]}")
        except BaseException as e:  # noqa: BLE001 (a kernel file may raise anything, SystemExit too)
            _modules[key] = JobFailure(f"importing {path} failed:\n{traceback_tail(e)}")
    if isinstance(_modules[key], JobFailure):
        raise _modules[key]
    # Triton re-reads the file when it decorates; the key must describe what it compiled.
    if _file_sha256(path) != source_sha256:
        raise JobFailure(f"{path} changed while compiling; run the compile again")
    return _modules[key]


def _kernel_function(module: Any, function: str, path: str) -> Any:
    from triton.runtime.jit import JITFunction

    fn = getattr(module, function, None)
    if fn is None:
        raise JobFailure(f"{path} has no function {function!r}")
    # @triton.autotune and @triton.heuristics wrap the JITFunction; the job's configs replace them.
    while not isinstance(fn, JITFunction) and hasattr(fn, "fn"):
        fn = fn.fn
    if not isinstance(fn, JITFunction):
        raise JobFailure(f"{path}: {function!r} is not a @triton.jit function (it is {type(fn).__name__})")
    return fn


def _check_signature(fn: Any, job: Job, function: str, path: str) -> None:
    """The job's parameters must be the function's, in order, with constexprs where it has them."""
    actual = list(fn.arg_names)
    listed = [p.name for p in job.signature]
    problems = []
    if listed != actual:
        for i in range(max(len(listed), len(actual))):
            a = actual[i] if i < len(actual) else "(nothing)"
            b = listed[i] if i < len(listed) else "(nothing)"
            if a != b:
                problems.append(f"position {i}: the function has {a}, the job has {b}")
        missing = [n for n in actual if n not in listed]
        extra = [n for n in listed if n not in actual]
        if missing:
            problems.append(f"missing from the job: {', '.join(missing)}")
        if extra:
            problems.append(f"not parameters of the function: {', '.join(extra)}")
    else:
        constexpr_in_fn = {actual[i] for i in fn.constexprs}
        for p in job.signature:
            if (p.name in constexpr_in_fn) != p.is_constexpr:
                where = "annotated tl.constexpr" if p.name in constexpr_in_fn else "not a constexpr"
                problems.append(f"{p.name} is {where} in the function but typed {p.type!r} in the job")
    if problems:
        raise JobFailure(
            f"the job's signature does not match {function} in {path}:\n"
            f"  function: {function}({', '.join(actual)})\n"
            f"  job:      ({', '.join(f'{p.name}: {p.type}' for p in job.signature)})\n  "
            + "\n  ".join(problems))


def _compile(fn: Any, job: Job) -> Any:
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource, make_backend

    names = [p.name for p in job.signature]
    signature = {p.name: p.type for p in job.signature}
    # Divisor 1 means "no hint": no attribute at all, the same as Triton's JIT for unaligned values.
    attrs = {(names.index(n),): [["tt.divisibility", d]] for n, d in job.divisibility.items() if d > 1}
    source = ASTSource(fn=fn, signature=signature, constexprs=dict(job.constexprs), attrs=attrs)
    target = GPUTarget("cuda", job.arch, 32)
    backend = make_backend(target)
    known = set(type(backend.parse_options({})).__dataclass_fields__)
    unknown = sorted(set(job.options) - known)
    if unknown:
        raise JobFailure(f"unknown compile option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                         f"for Triton {triton.__version__}; it knows: {', '.join(sorted(known))}")
    # 'arch' is passed explicitly so TRITON_OVERRIDE_ARCH cannot retarget the job.
    options = backend.parse_options({**job.options, "arch": f"sm{job.arch}"})
    # triton.compile is looked up at call time (not imported by name) on purpose: tests
    # replace it from a kernel module to simulate a crashing compiler.
    return triton.compile(source, target=target, options=options.__dict__)


def _build_meta(compiled: Any, job: Job, ptx: str, params: list[abi.PtxParam]) -> dict[str, Any]:
    md = compiled.metadata
    num_ctas = int(md.num_ctas)
    # Triton 3.6 has no cluster_dims in its metadata: its launcher uses (num_ctas, 1, 1).
    cluster_dims = [int(x) for x in getattr(md, "cluster_dims", None) or (num_ctas, 1, 1)]
    return {
        "entry": md.name,
        "arch": job.arch,
        "ptx_target": abi.ptx_target(ptx),
        "num_warps": int(md.num_warps),
        "num_stages": int(md.num_stages),
        "num_ctas": num_ctas,
        "cluster_dims": cluster_dims,
        "shared": int(md.shared),
        "global_scratch_size": int(getattr(md, "global_scratch_size", 0)),
        "global_scratch_align": int(getattr(md, "global_scratch_align", 1)),
        "profile_scratch_size": int(getattr(md, "profile_scratch_size", 0)),
        "profile_scratch_align": int(getattr(md, "profile_scratch_align", 1)),
        "launch_cooperative_grid": bool(getattr(md, "launch_cooperative_grid", False)),
        "launch_pdl": bool(getattr(md, "launch_pdl", False)),
        "triton_version": getattr(md, "triton_version", None) or _imported_triton_version(),
        "args": [{"name": p.name, "type": p.abi_type} for p in job.args()],
        "ptx_params": [str(p) for p in params],
        "hash": md.hash,
    }


def _imported_triton_version() -> str:
    import triton
    return str(triton.__version__)


def _frames_tail(e: BaseException, lines: int = 16) -> str:
    """Triton's innermost stack frames, for a message that already holds the exception's text."""
    ours = os.path.dirname(os.path.abspath(__file__)) + os.sep
    frames = [f for f in traceback.extract_tb(e.__traceback__) if not f.filename.startswith(ours)]
    text = "".join(traceback.format_list(frames)).rstrip().splitlines()
    return "Traceback (innermost frames):\n" + "\n".join(text[-lines:])


def compile_job(request: dict[str, Any]) -> dict[str, Any]:
    """Compiles request["job"] and publishes it. Returns {"ok", "seconds", "dir"|"message"}."""
    start = time.monotonic()
    job: Job = request["job"]
    path, function = request["source_file"], request["function"]
    try:
        module = _load_kernel_module(path, request["source_sha256"])
        fn = _kernel_function(module, function, path)
        _check_signature(fn, job, function, path)
        try:
            compiled = _compile(fn, job)
        except JobFailure:
            raise
        except BaseException as e:  # noqa: BLE001 (Triton raises many types, some not Exceptions)
            if isinstance(e, KeyboardInterrupt):
                raise
            message = str(e).strip() or type(e).__name__
            raise JobFailure(f"Triton failed to compile {function}: {type(e).__name__}: {message}\n"
                             f"{_frames_tail(e)}") from None
        ptx = compiled.asm["ptx"]
        params = abi.entry_params(ptx, compiled.metadata.name)
        abi.check([(p.name, p.abi_type) for p in job.args()], params, compiled.metadata.name)
        meta = _build_meta(compiled, job, ptx, params)
        folder = cache.publish(request["cache_dir"], request["key"], {
            "kernel.cubin": compiled.asm["cubin"],
            "kernel.ptx": ptx.encode(),
            "meta.json": (json.dumps(meta, indent=2) + "\n").encode(),
        }, replace=request["replace"])
        return {"ok": True, "seconds": time.monotonic() - start, "dir": folder}
    except (JobFailure, abi.AbiError) as e:
        return {"ok": False, "message": f"{job.describe()}: {e}"}
    except Exception as e:  # noqa: BLE001 (a bug here must not hide the other jobs' results)
        return {"ok": False, "message": f"{job.describe()}: internal error in tritonpack_compile: "
                                        f"{type(e).__name__}: {e}\n{traceback_tail(e)}"}
