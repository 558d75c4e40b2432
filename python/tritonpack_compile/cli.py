"""The compile step's command line: job file in, cache folders and JSON-lines events out.

Exit codes: 0 all jobs ok, 1 some job failed (every job is still attempted),
2 malformed job file or arguments, 3 Triton missing or too old. Only main() picks
an exit code; everything below it raises or returns results.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from tritonpack_compile import cache, toolchain
from tritonpack_compile.jobs import Job, JobFileError, load_job_file

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_TRITON = 3
EXIT_INTERRUPTED = 130

Emit = Callable[[dict[str, Any]], None]


def emit_event(event: dict[str, Any]) -> None:
    """One JSON object per line on stdout, flushed at once: the C++ CLI shows progress from it."""
    sys.stdout.write(json.dumps(event, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def default_parallelism() -> int:
    # The CPUs this process may run on (taskset, cgroup cpusets), not every CPU of the host.
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python3 -m tritonpack_compile",
        description="Compile the jobs of a tritonpack job file with Triton (no GPU needed). "
                    "Events go to stdout as JSON lines; see docs/compile-step.md.")
    parser.add_argument("jobfile", help="the JSON job file written by `tritonpack compile`")
    parser.add_argument("--parallel", type=int, default=None, metavar="N",
                        help="compile N jobs at once (default: the CPUs this process may use)")
    parser.add_argument("--no-cache", action="store_true",
                        help="recompile every job (bypassing Triton's own cache too) and replace the cached folders")
    args = parser.parse_args(argv)
    if args.parallel is not None and args.parallel < 1:
        parser.error(f"--parallel must be at least 1, got {args.parallel}")
    return args


@dataclass
class _Unit:
    """One compilation: the jobs of one file that share a cache key (usually exactly one)."""
    key: str
    jobs: list[Job] = field(default_factory=list)


def _report(unit: _Unit, result: dict[str, Any], emit: Emit, tally: dict[str, int]) -> None:
    for job in unit.jobs:
        if result["ok"]:
            tally["ok"] += 1
            emit({"event": "done", "id": job.id, "cached": result.get("cached", False),
                  "seconds": round(result.get("seconds", 0.0), 3), "dir": result["dir"]})
        else:
            tally["failed"] += 1
            emit({"event": "failed", "id": job.id, "message": result["message"], "error": result["error"]})


def _preflight_request(units: list[_Unit], base: dict[str, Any]) -> dict[str, Any]:
    """worker.preflight's input: each distinct signature (as the check sees it) once, with its job count."""
    signatures: dict[tuple, list] = {}
    for unit in units:
        for job in unit.jobs:
            signatures.setdefault(job.signature_key(), [job.signature, 0])[1] += 1
    return {**base, "signatures": [(signature, count) for signature, count in signatures.values()]}


def _run_preflight(pool: Any, request: dict[str, Any]) -> dict[str, Any] | None:
    """Runs worker.preflight in the pool; a worker that dies while importing the kernel is a failure too."""
    from concurrent.futures.process import BrokenProcessPool

    from tritonpack_compile import worker

    try:
        return pool.submit(worker.preflight, request).result()
    except BrokenProcessPool:
        return {"count": sum(count for _, count in request["signatures"]),
                "message": f"the compiler process died while importing {request['source_file']} "
                           "(a crash in the kernel module, Triton or LLVM; its output is on stderr)"}


def _compile_units(units: list[_Unit], requests: dict[str, dict[str, Any]], preflight: dict[str, Any],
                   parallel: int, emit: Emit, tally: dict[str, int]) -> None:
    """Runs the compilations in a process pool; a crashing compiler fails only its own job.

    First a preflight in one worker checks, once, what every job would otherwise find
    out on its own: that the kernel imports and the signatures fit. If not, one
    `failed_all` event replaces thousands of identical failures and nothing compiles.
    The other workers import Triton and the kernel meanwhile, so a good run loses
    only the preflight's own milliseconds.

    When a worker dies (an abort inside LLVM, a segfault) the pool breaks and every
    unfinished compilation with it. Those are run again one at a time; in a serial
    pool the first unfinished compilation is the one that crashed.
    """
    # Imported here so that a fully cached run never pays for them.
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed
    from concurrent.futures.process import BrokenProcessPool

    from tritonpack_compile import worker

    order = {u.key: i for i, u in enumerate(units)}
    pending = list(units)
    workers = min(parallel, len(pending))
    # 'spawn': fork after importing Triton (LLVM, threads) is not safe, and the parent never imports it.
    context = multiprocessing.get_context("spawn")
    initargs = (preflight["source_file"], preflight["source_sha256"])
    # Cleared once the first pool has run it: a pool started after a crash has nothing left to check.
    pending_preflight: dict[str, Any] | None = preflight
    while pending:
        broken: list[_Unit] = []
        with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=worker.init_worker,
                                 initargs=initargs) as pool:
            if pending_preflight is not None:
                stop = _run_preflight(pool, pending_preflight)
                pending_preflight = None
                if stop is not None:
                    tally["failed"] += stop["count"]
                    emit({"event": "failed_all", "count": stop["count"], "message": stop["message"]})
                    return
            futures = {pool.submit(worker.compile_job, requests[u.key]): u for u in pending}
            for future in as_completed(futures):
                unit = futures[future]
                try:
                    result = future.result()
                except BrokenProcessPool:
                    broken.append(unit)
                    continue
                except Exception as e:  # noqa: BLE001 (e.g. a result that failed to unpickle)
                    result = worker.failure(unit.jobs[0], f"the compile worker failed: {type(e).__name__}: {e}")
                _report(unit, result, emit, tally)
        broken.sort(key=lambda u: order[u.key])
        if broken and workers == 1:
            culprit = broken.pop(0)
            _report(culprit, worker.failure(culprit.jobs[0], (
                "the compiler process died while compiling this job "
                "(a crash inside Triton, LLVM or ptxas; its output is on stderr)")), emit, tally)
        pending = broken
        workers = 1


def run(jobfile_path: str, parallel: int, no_cache: bool, emit: Emit = emit_event) -> int:
    start = time.monotonic()
    try:
        jobfile = load_job_file(jobfile_path)
        source_sha256 = cache.source_digest(jobfile.source_file)
    except JobFileError as e:
        print(f"tritonpack: job file {jobfile_path}: {e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except OSError as e:
        print(f"tritonpack: job file {jobfile_path}: source_file: cannot read: {e.strerror or e}", file=sys.stderr)
        return EXIT_BAD_INPUT
    try:
        triton_version = toolchain.triton_version()
    except toolchain.ToolchainError as e:
        print(e, file=sys.stderr)
        return EXIT_NO_TRITON

    environment = cache.compiler_environment()
    units: dict[str, _Unit] = {}
    for job in jobfile.jobs:
        key = cache.job_key(triton_version=triton_version, source_sha256=source_sha256,
                            function=jobfile.function, job=job.raw, environment=environment)
        units.setdefault(key, _Unit(key)).jobs.append(job)

    cached = [] if no_cache else [u for u in units.values()
                                  if cache.is_complete(cache.entry_dir(jobfile.cache_dir, u.key))]
    cached_keys = {u.key for u in cached}
    to_compile = [u for u in units.values() if u.key not in cached_keys]
    emit({"event": "plan", "total": len(jobfile.jobs), "cached": sum(len(u.jobs) for u in cached)})

    tally = {"ok": 0, "failed": 0}
    for unit in cached:
        _report(unit, {"ok": True, "cached": True, "dir": cache.entry_dir(jobfile.cache_dir, unit.key)}, emit, tally)
    if to_compile:
        base = {"source_file": jobfile.source_file, "source_sha256": source_sha256, "function": jobfile.function}
        requests = {u.key: {**base, "job": u.jobs[0], "key": u.key, "cache_dir": jobfile.cache_dir,
                            "replace": no_cache} for u in to_compile}
        _compile_units(to_compile, requests, _preflight_request(to_compile, base), parallel, emit, tally)

    emit({"event": "finished", "ok": tally["ok"], "failed": tally["failed"],
          "seconds": round(time.monotonic() - start, 3)})
    return EXIT_FAILED if tally["failed"] else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = _parse_args(argv)
    try:
        return run(args.jobfile, args.parallel or default_parallelism(), args.no_cache)
    except KeyboardInterrupt:
        print("tritonpack: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
