"""The compile cache: keys, lookup and atomic publication of job folders.

Layout: <cache_dir>/v2/<key>/{kernel.cubin, kernel.ptx, meta.json, kernel.<stage>...}
(the stages meta.json lists under "ir"). A folder is
written under a temporary name in the same parent and renamed into place, so a
reader sees either no folder or a complete one, and two writers of one key never
mix their files (the second rename fails and its copy is dropped).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from typing import Any

from tritonpack_compile import __version__

# v2: the compiler stages (kernel.ttir, ...) and the resource fields in meta.json. The
# layout name changes with the folder's content so that older entries, which lack
# them, are never reused (their folder is simply not looked at).
LAYOUT = "v2"
FILES = ("kernel.cubin", "kernel.ptx", "meta.json")

# Environment variables that can change what Triton emits are part of the key: a
# miss costs a compile, a wrong hit costs a wrong kernel. These prefixes are taken,
# minus the names below that only move caches and dumps or change logging.
_ENV_PREFIXES = ("TRITON_", "MLIR_", "LLVM_", "NVPTX_", "AMDGCN_")
_ENV_NAMES = ("PTXAS_OPTIONS", "DISABLE_PTXAS_OPT", "DISABLE_LLVM_OPT", "USE_IR_LOC")
_ENV_IGNORED = frozenset((
    "TRITON_CACHE_DIR", "TRITON_HOME", "TRITON_DUMP_DIR", "TRITON_CACHE_MANAGER", "TRITON_REMOTE_CACHE_BACKEND",
    "TRITON_REDIS_HOST", "TRITON_REDIS_PORT", "TRITON_REDIS_KEY_FORMAT", "TRITON_ALWAYS_COMPILE",
    "TRITON_PRINT_AUTOTUNING", "TRITON_CACHE_AUTOTUNING", "TRITON_LIBCUDA_PATH", "TRITON_CUPTI_LIB_PATH",
    "TRITON_KERNEL_DUMP", "TRITON_DUMP_PTXAS_LOG", "TRITON_INTERPRET", "MLIR_ENABLE_DUMP",
    "MLIR_ENABLE_TIMING", "LLVM_ENABLE_TIMING"))


def compiler_environment(environ: os._Environ | dict[str, str] = os.environ) -> dict[str, str]:
    """The environment variables that take part in the cache key."""
    return {k: v for k, v in sorted(environ.items())
            if (k.startswith(_ENV_PREFIXES) or k in _ENV_NAMES) and k not in _ENV_IGNORED}


def source_digest(source_file: str) -> str:
    """sha256 of the kernel file's bytes and of every other .py file in its folder, by name: the
    sibling modules it can import (its folder is first on sys.path), such as a shared
    @triton.jit helper. A change to any of them is a miss; one that does not matter to the kernel
    costs a compile, which is cheaper than a wrong hit. Packages in subfolders are not covered."""
    digest = hashlib.sha256()
    with open(source_file, "rb") as f:
        digest.update(f.read())
    folder = os.path.dirname(os.path.abspath(source_file))
    own = os.path.basename(source_file)
    for name in sorted(os.listdir(folder)):
        path = os.path.join(folder, name)
        if name == own or not name.endswith(".py") or not os.path.isfile(path):
            continue
        digest.update(b"\0" + name.encode() + b"\0")
        with open(path, "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)


def job_key(*, triton_version: str, source_sha256: str, function: str, job: dict[str, Any],
            environment: dict[str, str]) -> str:
    """sha256 over this package's version, Triton's version, the source's digest (source_digest),
    the function name, the job minus its id, and the compiler environment."""
    job_without_id = {k: v for k, v in job.items() if k != "id"}
    material = {
        "tritonpack_compile": __version__,
        "triton": triton_version,
        "source_sha256": source_sha256,
        "function": function,
        "job": job_without_id,
        "environment": environment,
    }
    return hashlib.sha256(canonical_json(material).encode()).hexdigest()


def entry_dir(cache_dir: str, key: str) -> str:
    return os.path.join(cache_dir, LAYOUT, key)


def is_complete(folder: str) -> bool:
    """True when `folder` holds every file, a readable meta.json, and each stage it lists."""
    try:
        for name in FILES[:-1]:
            if not os.path.isfile(os.path.join(folder, name)):
                return False
        with open(os.path.join(folder, "meta.json"), "rb") as f:
            meta = json.load(f)
        stages = meta.get("ir", []) if isinstance(meta, dict) else None
        return isinstance(stages, list) and all(
            isinstance(s, str) and os.path.isfile(os.path.join(folder, f"kernel.{s}")) for s in stages)
    except (OSError, ValueError):
        return False


def _remove_aside(folder: str) -> None:
    """Moves `folder` out of the way (one rename, so readers never see half of it), then deletes it."""
    aside = tempfile.mkdtemp(prefix=".trash-", dir=os.path.dirname(folder))
    try:
        os.rename(folder, os.path.join(aside, "old"))
    except FileNotFoundError:
        pass  # someone else removed or replaced it first
    shutil.rmtree(aside, ignore_errors=True)


def publish(cache_dir: str, key: str, files: dict[str, bytes], *, replace: bool) -> str:
    """Writes `files` as the folder for `key` atomically and returns its path.

    replace=False: an existing complete folder wins (a concurrent writer of the same key
    produced the same content). replace=True (--no-cache): the new folder replaces it.
    """
    parent = os.path.join(cache_dir, LAYOUT)
    os.makedirs(parent, exist_ok=True)
    final = os.path.join(parent, key)
    tmp = tempfile.mkdtemp(prefix=f".tmp-{key[:16]}-", dir=parent)
    try:
        for name, data in files.items():
            with open(os.path.join(tmp, name), "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700; the cache may be shared by a team
        attempts_left = 3
        while True:
            attempts_left -= 1
            if os.path.exists(final) and (replace or not is_complete(final)):
                _remove_aside(final)  # a stale or broken entry, or --no-cache
            try:
                os.rename(tmp, final)
                return final
            except OSError:
                # The target exists (ENOTEMPTY/EEXIST): another writer got there first.
                if not replace and is_complete(final):
                    return final
                if attempts_left == 0:
                    raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
