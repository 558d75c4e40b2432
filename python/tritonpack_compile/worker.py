"""Compiles one job in a worker process and publishes its cache folder.

Runs in processes started by cli.py ('spawn' context). Each worker imports Triton
and the kernel module once, when it starts (so that every worker warms up while the
first one runs the preflight). Everything here turns failures into a result
message: the parent only reports them.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
import time
import traceback
from typing import Any

from tritonpack_common.kernel_import import import_kernel_file, is_gluon, traceback_tail
from tritonpack_compile import abi, cache, resources
from tritonpack_compile.jobs import DtypeValue, Job, Param

# Kernel modules loaded in this process: (path, sha256) -> module or the load error text.
_modules: dict[tuple[str, str], Any] = {}

# The compiler stages kept next to the cubin and PTX, in pipeline order (a Gluon kernel
# starts at ttgir, so it has no ttir).
IR_STAGES = ("ttir", "ttgir", "llir")


def init_worker(source_file: str, source_sha256: str) -> None:
    """Process initializer: keeps stdout for the parent's events only, then warms up."""
    # Triton, MLIR and ptxas print to fd 1 directly (warnings, diagnostics); the parent's
    # stdout carries the event protocol, so this process's fd 1 becomes its stderr.
    sys.stdout.flush()
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    # The interpreter mode replaces @triton.jit with a Python emulation that cannot compile.
    os.environ.pop("TRITON_INTERPRET", None)
    # Our cache already decides what to compile. Triton's own cache would skip ptxas on
    # a hit, and with it the resource report that meta.json needs, so it is bypassed.
    os.environ["TRITON_ALWAYS_COMPILE"] = "1"
    # Triton prints ptxas's -v report (registers, spills) only when asked to.
    os.environ["TRITON_DUMP_PTXAS_LOG"] = "1"
    # Failures are remembered in _modules and reported by the preflight or the job.
    with contextlib.suppress(BaseException):
        import triton  # noqa: F401 (the import is the point: it takes most of a second)
    with contextlib.suppress(JobFailure):
        _load_kernel_module(source_file, source_sha256)


class JobFailure(Exception):
    """A job cannot compile; the message is complete and shown as is."""


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
    if cache.source_digest(path) != source_sha256:
        raise JobFailure(f"{path} or a module beside it changed while compiling; run the compile again")
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
        raise JobFailure(f"{path}: {function!r} is not a @triton.jit or @gluon.jit function "
                         f"(it is {type(fn).__name__})")
    return fn


def _descriptor_problems(signature: tuple[Param, ...], gluon: bool) -> list[str]:
    """A Gluon kernel's descriptors carry their shared-memory layout; a Triton kernel's do not."""
    problems = []
    for p in signature:
        d = p.descriptor
        if d is None or gluon == (d.layout is not None):
            continue
        block = ", ".join(map(str, d.block))
        if gluon:
            problems.append(f"{p.name}: a Gluon kernel's tensor descriptor needs its layout, as Triton's JIT "
                            f"spells it: tensordesc<{d.dtype}[{block}],NVMMASharedLayout(...)>, the layout "
                            "written as str(layout) prints it")
        else:
            problems.append(f"{p.name}: only Gluon kernels take a layout in a tensor descriptor type; "
                            f"write tensordesc<{d.dtype}[{block}]>")
    return problems


def check_signature(fn: Any, signature: tuple[Param, ...], function: str, path: str) -> None:
    """The job's parameters must be the function's, in order, with constexprs where it has them."""
    actual = list(fn.arg_names)
    listed = [p.name for p in signature]
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
        for p in signature:
            if (p.name in constexpr_in_fn) != p.is_constexpr:
                where = "annotated tl.constexpr" if p.name in constexpr_in_fn else "not a constexpr"
                problems.append(f"{p.name} is {where} in the function but typed {p.type!r} in the job")
        problems += _descriptor_problems(signature, is_gluon(fn))
    if problems:
        raise JobFailure(
            f"the job's signature does not match {function} in {path}:\n"
            f"  function: {function}({', '.join(actual)})\n"
            f"  job:      ({', '.join(f'{p.name}: {p.type}' for p in signature)})\n  "
            + "\n  ".join(problems))


def preflight(request: dict[str, Any]) -> dict[str, Any] | None:
    """Before any job compiles: can the kernel be imported, found, and do the signatures fit?

    request["signatures"] is a list of (signature, number of jobs with it), one per
    distinct signature_key. Returns None when every check passes, else
    {"message", "count"}: what is wrong, said once, and how many jobs it hits.
    """
    path, function = request["source_file"], request["function"]
    total = sum(count for _, count in request["signatures"])
    try:
        fn = _kernel_function(_load_kernel_module(path, request["source_sha256"]), function, path)
    except JobFailure as e:
        return {"message": str(e), "count": total}
    except Exception as e:  # noqa: BLE001 (e.g. Triton itself fails to import)
        return {"message": f"cannot load {function} from {path}: {type(e).__name__}: {e}\n{traceback_tail(e)}",
                "count": total}
    failures = []
    for signature, count in request["signatures"]:
        try:
            check_signature(fn, signature, function, path)
        except JobFailure as e:
            failures.append((str(e), count))
    if not failures:
        return None
    message = failures[0][0]
    if len(failures) > 1:
        message += f"\n(and {len(failures) - 1} more of the job file's {len(request['signatures'])} signatures " \
                   "do not match either)"
    return {"message": message, "count": sum(count for _, count in failures)}


def _constexpr_for_triton(value: Any) -> Any:
    if isinstance(value, DtypeValue):
        import triton.language as tl
        return tl.dtype(value.triton_name)
    return value


def _ast_source(fn: Any) -> type:
    """ASTSource for @triton.jit, GluonASTSource for @gluon.jit (same constructor)."""
    if not is_gluon(fn):
        from triton.compiler import ASTSource
        return ASTSource
    try:
        from triton.experimental.gluon._runtime import GluonASTSource
    except ImportError as e:
        raise JobFailure(f"this Triton cannot compile Gluon kernels ahead of time: {e}") from None
    return GluonASTSource


def _compile(fn: Any, job: Job) -> tuple[Any, str]:
    """Compiles the job; returns Triton's compiled kernel and what it printed (ptxas's report)."""
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import make_backend

    names = [p.name for p in job.signature]
    signature = {p.name: p.type for p in job.signature}
    # Divisor 1 means "no hint": no attribute at all, the same as Triton's JIT for unaligned values.
    attrs = {(names.index(n),): [["tt.divisibility", d]] for n, d in job.divisibility.items() if d > 1}
    constexprs = {name: _constexpr_for_triton(v) for name, v in job.constexprs.items()}
    source = _ast_source(fn)(fn=fn, signature=signature, constexprs=constexprs, attrs=attrs)
    target = GPUTarget("cuda", job.arch, 32)
    backend = make_backend(target)
    known = set(type(backend.parse_options({})).__dataclass_fields__)
    unknown = sorted(set(job.options) - known)
    if unknown:
        raise JobFailure(f"unknown compile option{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                         f"for Triton {triton.__version__}; it knows: {', '.join(sorted(known))}")
    # 'arch' is passed explicitly so TRITON_OVERRIDE_ARCH cannot retarget the job.
    options = backend.parse_options({**job.options, "arch": f"sm{job.arch}"})
    # Triton prints ptxas's report with print(), so it is caught here rather than on fd 1.
    printed = io.StringIO()
    succeeded = False
    try:
        with contextlib.redirect_stdout(printed):
            # triton.compile is looked up at call time (not imported by name) on purpose: tests
            # replace it from a kernel module to simulate a crashing compiler.
            compiled = triton.compile(source, target=target, options=options.__dict__)
        succeeded = True
    finally:
        _forward_to_stderr(printed.getvalue(), drop_report=succeeded)
    return compiled, printed.getvalue()


def _forward_to_stderr(text: str, drop_report: bool) -> None:
    """Whatever Triton printed goes to stderr as before, minus ptxas's routine -v report."""
    lines = text.splitlines()
    if drop_report:
        lines = [line for line in lines if not resources.is_ptxas_report_line(line)]
    kept = "\n".join(lines).strip("\n")
    if kept:
        print(kept, file=sys.stderr)


def _descriptor_args(job: Job, tensordesc_meta: list | None) -> tuple[list[abi.Arg], list[dict | None]]:
    """The runtime arguments, each descriptor marked TMA or not from Triton's tensordesc_meta.

    Triton gives one entry per descriptor (None: not lowered to TMA), or an empty list
    when none was lowered (always so on sm_80).
    """
    descriptors = [p for p in job.args() if p.descriptor]
    metas = list(tensordesc_meta or [])
    if metas and len(metas) != len(descriptors):
        raise JobFailure(f"Triton's tensordesc_meta has {len(metas)} entries for {len(descriptors)} "
                         "tensor descriptor arguments; cannot tell how to pass them")
    metas = metas or [None] * len(descriptors)
    by_name = dict(zip((p.name for p in descriptors), metas))
    args = [abi.Arg(p.name, p.abi_type, p.descriptor.ndim, by_name[p.name] is not None) if p.descriptor
            else abi.Arg(p.name, p.abi_type) for p in job.args()]
    return args, [_tensordesc_meta_json(m, name) for name, m in by_name.items()]


_TENSORDESC_META_FIELDS = ("swizzle", "elem_size", "elem_type", "block_size", "fp4_padded")


def _tensordesc_meta_json(meta: dict | None, name: str) -> dict | None:
    if meta is None:
        return None
    missing = [k for k in _TENSORDESC_META_FIELDS if k not in meta]
    if missing:
        raise JobFailure(f"Triton's tensordesc_meta for {name} lacks {', '.join(missing)}; "
                         "the runtime cannot encode its CUtensorMap")
    out = {k: meta[k] for k in _TENSORDESC_META_FIELDS}
    out["block_size"] = [int(x) for x in out["block_size"]]
    out["fp4_padded"] = bool(out["fp4_padded"])
    return out


def _resource_usage(compiled: Any, log: str) -> dict[str, Any]:
    """ptxas's numbers for the entry, and the register count read back from the cubin."""
    entry = compiled.metadata.name
    usage: dict[str, Any] = resources.parse_ptxas_log(log, entry)
    try:
        usage["cubin_registers"] = resources.cubin_register_count(compiled.asm["cubin"], entry)
    except resources.CubinError as e:
        usage["cubin_registers"] = None
        print(f"tritonpack: cannot read the register count of {entry} from its cubin: {e}", file=sys.stderr)
    if None not in (usage["registers"], usage["cubin_registers"]) and usage["registers"] != usage["cubin_registers"]:
        print(f"tritonpack: ptxas reports {usage['registers']} registers for {entry}, its cubin says "
              f"{usage['cubin_registers']}; the cubin's number is what the driver uses", file=sys.stderr)
    return usage


def _build_meta(compiled: Any, job: Job, fn: Any, ptx: str, params: list[abi.PtxParam], args: list[abi.Arg],
                tensordesc_meta: list[dict | None], usage: dict[str, Any]) -> dict[str, Any]:
    md = compiled.metadata
    num_ctas = int(md.num_ctas)
    # Triton 3.6 has no cluster_dims in its metadata: its launcher uses (num_ctas, 1, 1).
    cluster_dims = [int(x) for x in getattr(md, "cluster_dims", None) or (num_ctas, 1, 1)]
    return {
        "entry": md.name,
        "language": "gluon" if is_gluon(fn) else "triton",
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
        "args": [a.to_json() for a in args],
        "tensordesc_meta": tensordesc_meta,
        "ptx_params": [str(p) for p in params],
        **{k: usage[k] for k in (*resources.RESOURCE_FIELDS, "cubin_registers")},
        "ir": [stage for stage in IR_STAGES if stage in compiled.asm],
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


def _folder_files(compiled: Any, ptx: str, meta: dict[str, Any]) -> dict[str, bytes]:
    files = {"kernel.cubin": compiled.asm["cubin"], "kernel.ptx": ptx.encode()}
    for stage in meta["ir"]:
        text = compiled.asm[stage]
        files[f"kernel.{stage}"] = text.encode() if isinstance(text, str) else bytes(text)
    files["meta.json"] = (json.dumps(meta, indent=2) + "\n").encode()
    return files


def compile_job(request: dict[str, Any]) -> dict[str, Any]:
    """Compiles request["job"] and publishes it. Returns {"ok", "seconds", "dir"} or {"ok", "message", "error"}."""
    start = time.monotonic()
    job: Job = request["job"]
    path, function = request["source_file"], request["function"]
    try:
        module = _load_kernel_module(path, request["source_sha256"])
        fn = _kernel_function(module, function, path)
        # The signature is not checked again: the preflight checked every job's (cli.py runs it first).
        try:
            compiled, log = _compile(fn, job)
        except JobFailure:
            raise
        except BaseException as e:  # noqa: BLE001 (Triton raises many types, some not Exceptions)
            if isinstance(e, KeyboardInterrupt):
                raise
            message = str(e).strip() or type(e).__name__
            raise JobFailure(f"Triton failed to compile {function}: {type(e).__name__}: {message}\n"
                             f"{_frames_tail(e)}") from None
        ptx = compiled.asm["ptx"]
        if job.options.get("launch_pdl") and "griddepcontrol.wait" not in ptx:
            # Launched this way it may start before the launch before it on the stream ends.
            raise JobFailure(f"{function} is compiled for programmatic dependent launch (its config sets "
                             "launch_pdl) but never waits for the launch before it (no griddepcontrol.wait in its "
                             "PTX), so it could read what that launch has not finished writing: call "
                             "triton.language.extra.cuda.gdc_wait() before its first global load or store, or "
                             "drop launch_pdl")
        params = abi.entry_params(ptx, compiled.metadata.name)
        args, tensordesc_meta = _descriptor_args(job, getattr(compiled.metadata, "tensordesc_meta", None))
        abi.check(args, params, compiled.metadata.name)
        meta = _build_meta(compiled, job, fn, ptx, params, args, tensordesc_meta, _resource_usage(compiled, log))
        folder = cache.publish(request["cache_dir"], request["key"], _folder_files(compiled, ptx, meta),
                               replace=request["replace"])
        return {"ok": True, "seconds": time.monotonic() - start, "dir": folder}
    except (JobFailure, abi.AbiError) as e:
        return failure(job, str(e))
    except Exception as e:  # noqa: BLE001 (a bug here must not hide the other jobs' results)
        return failure(job, f"internal error in tritonpack_compile: {type(e).__name__}: {e}\n{traceback_tail(e)}")


def failure(job: Job, error: str) -> dict[str, Any]:
    """A failed result: `error` is the same for every job that fails the same way, `message` names the job."""
    return {"ok": False, "message": f"{job.describe()}: {error}", "error": error}
