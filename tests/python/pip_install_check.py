"""`pip install .` from a clean copy of the repository, then the installed package and command.

    python3 pip_install_check.py --source REPO --work DIR

What a user gets from `git clone` + `pip install .` (issue 9): the copy holds the files git
tracks or would track (git ls-files: no build folders), and pip builds the wheel as it does for
a user, with build isolation (scikit-build-core from the package index). One venv, one build:
  - `tritonpack --version`, tritonpack.__version__ and the wheel's metadata all say VERSION's version;
  - the wheel holds the CLI and the Python packages only (no tests, benchmarks, libraries);
  - without Triton (plain `pip install .`, no [compile] extra): `tritonpack compile` and
    tritonpack.compile() fail with the compile step's "Triton is not installed for <venv python>";
then the venv is given the system's Triton 3.6.0 (include-system-site-packages in pyvenv.cfg, as
`venv --system-site-packages` writes it; `pip install .[compile]` would download the same Triton):
  - `tritonpack compile kernels/vector_add/vector_add.toml -o x.tpack` works with no python3 on PATH
    (the script passes its own interpreter to the CLI), and tritonpack.compile() writes the same bytes;
  - a failing compile gives the same message from Python (CompileError) as from the command.

The package index is needed (pip's build isolation): when pip cannot reach it, the test says so
and exits 77 (CTest: skipped). So does it, after the other checks, when the system Python has no
Triton 3.6.0 to compile with.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

SKIP = 77
SPEC = "kernels/vector_add/vector_add.toml"


class CheckFailed(Exception):
    pass


def run(command, *, cwd=None, env=None, timeout=1200, check=True):
    """Runs a command, capturing its output; fails the test with that output if it fails."""
    started = time.monotonic()
    result = subprocess.run([str(c) for c in command], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                            timeout=timeout)
    result.seconds = time.monotonic() - started
    if check and result.returncode != 0:
        raise CheckFailed(f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
                          f"{result.stdout}\n{result.stderr}")
    return result


def expect(condition, message):
    if not condition:
        raise CheckFailed(message)


def copy_clean_tree(source: Path, dest: Path) -> int:
    """Copies what a clone of `source`'s working tree would hold (tracked files and untracked ones
    git does not ignore) into dest, keeping modification times so that a reused build folder
    rebuilds only what changed."""
    listing = run(["git", "-C", source, "ls-files", "-z", "--cached", "--others", "--exclude-standard"], check=False)
    if listing.returncode != 0:
        raise CheckFailed(f"{source} is not a git checkout (git ls-files: {listing.stderr.strip()}); "
                          "this test installs what a clone of it holds")
    if dest.exists():
        shutil.rmtree(dest)
    count = 0
    for name in filter(None, listing.stdout.split("\0")):
        src = source / name
        if not src.is_file():  # deleted in the working tree, or a submodule
            continue
        (dest / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(src, dest / name)
        count += 1
    return count


def index_reachable(python: str, work: Path) -> tuple[bool, str]:
    """Whether pip can download from its package index (as configured here) at all."""
    probe = work / "index-probe"
    shutil.rmtree(probe, ignore_errors=True)
    result = run([python, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--dest", probe,
                  "scikit-build-core"], check=False, timeout=300)
    shutil.rmtree(probe, ignore_errors=True)
    return result.returncode == 0, (result.stderr.strip().splitlines() or ["no output"])[-1]


def make_venv(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    run([sys.executable, "-m", "venv", path])
    return path / "bin" / "python"


def pip_install(python: Path, tree: Path):
    """`pip install .`, the user's command, in the copy."""
    result = run([python, "-m", "pip", "install", "--disable-pip-version-check", "."], cwd=tree)
    print(f"pip install . (with the CLI's build): {result.seconds:.1f} s", flush=True)
    return result


def see_system_site_packages(venv: Path):
    """Makes the venv see the base interpreter's packages, as `venv --system-site-packages` would have."""
    config = venv / "pyvenv.cfg"
    lines = [line for line in config.read_text(encoding="utf-8").splitlines()
             if not line.replace(" ", "").startswith("include-system-site-packages=")]
    config.write_text("\n".join(lines + ["include-system-site-packages = true"]) + "\n", encoding="utf-8")


def python_json(python: Path, code: str, env=None):
    return json.loads(run([python, "-c", code], env=env).stdout)


def check_versions(venv: Path, version: str):
    shown = run([venv / "bin" / "tritonpack", "--version"]).stdout.strip()
    expect(shown == f"tritonpack {version}", f"tritonpack --version printed {shown!r}; VERSION says {version!r}")
    info = python_json(venv / "bin" / "python", "import json, importlib.metadata as m, tritonpack; "
                       "print(json.dumps({'module': tritonpack.__version__, 'metadata': m.version('tritonpack'), "
                       "'cli': tritonpack.cli_path(), 'requires': m.requires('tritonpack')}))")
    expect(info["module"] == version, f"tritonpack.__version__ is {info['module']!r}; VERSION says {version!r}")
    expect(info["metadata"] == version, f"the wheel's metadata says {info['metadata']!r}; VERSION says {version!r}")
    expect(Path(info["cli"]).resolve().is_relative_to(venv.resolve()),
           f"tritonpack.cli_path() is {info['cli']}, outside the venv {venv}")
    expect('triton==3.6.0; extra == "compile"' in (info["requires"] or []),
           f"the compile extra does not require triton==3.6.0: {info['requires']}")
    print(f"versions agree: tritonpack --version, tritonpack.__version__, metadata: {version}")


def check_wheel_contents(venv: Path):
    """Everything the wheel installed, from its RECORD: the CLI, the Python packages, the script."""
    files = python_json(venv / "bin" / "python", "import json, importlib.metadata as m; "
                        "print(json.dumps([str(f) for f in m.files('tritonpack')]))")
    packages = {"tritonpack", "tritonpack_compile", "tritonpack_init", "tritonpack_plugingen", "tritonpack_common"}
    unexpected = [f for f in files
                  if f.split("/")[0] not in packages and not f.split("/")[0].endswith(".dist-info")
                  and not f.endswith("/bin/tritonpack") and "__pycache__" not in f]
    expect(not unexpected, f"the wheel installed files besides the CLI and the Python packages: {unexpected}")
    expect("tritonpack/bin/tritonpack" in files, f"the wheel has no tritonpack/bin/tritonpack: {files}")
    expect("tritonpack/_install_info.py" in files and "tritonpack_compile/__main__.py" in files,
           "the wheel lacks tritonpack/_install_info.py or tritonpack_compile")
    print(f"wheel contents: {len(files)} files, the CLI and the Python packages only")


def check_compile(venv: Path, tree: Path, work: Path):
    """The installed command and tritonpack.compile() make the same pack; their errors match."""
    cache = work / "compile-cache"
    shutil.rmtree(cache, ignore_errors=True)
    no_python_on_path = work / "empty-bin"
    no_python_on_path.mkdir(exist_ok=True)
    env = dict(os.environ, TRITONPACK_CACHE_DIR=str(cache), PATH=str(no_python_on_path))
    for name in ("TRITONPACK_PYTHON", "TRITONPACK_PYTHON_DIR", "TRITONPACK_CLI", "PYTHONPATH"):
        env.pop(name, None)
    cli_pack, py_pack = work / "cli.tpack", work / "python.tpack"
    for pack in (cli_pack, py_pack):
        pack.unlink(missing_ok=True)

    result = run([venv / "bin" / "tritonpack", "compile", SPEC, "-o", cli_pack], cwd=tree, env=env)
    print(f"tritonpack compile {SPEC}: {result.seconds:.1f} s (empty cache): {result.stderr.strip()}")
    python = venv / "bin" / "python"
    # An empty cache of its own, so this compiles too: packs of the same spec file, compiled by the
    # same Triton, are byte for byte the same (the manifest holds the spec's path, so the same path).
    python_cache = work / "compile-cache-python"
    shutil.rmtree(python_cache, ignore_errors=True)
    run([python, "-c", f"import tritonpack; tritonpack.compile({SPEC!r}, {str(py_pack)!r}, "
                       f"cache_dir={str(python_cache)!r})"], cwd=tree, env=env)
    expect(cli_pack.read_bytes() == py_pack.read_bytes(),
           f"tritonpack.compile() wrote other bytes than tritonpack compile ({py_pack} vs {cli_pack})")
    inspected = run([venv / "bin" / "tritonpack", "inspect", cli_pack], env=env).stdout
    expect("kernel vector_add" in inspected, f"tritonpack inspect of the pack:\n{inspected}")
    print(f"tritonpack.compile() (its own empty cache) wrote the same {cli_pack.stat().st_size} bytes")

    # The same failure from both: an arch the CLI refuses, and a spec that does not exist.
    bad = str(work / "bad.tpack")
    for args, call in (([SPEC, "--arch", "sm_090"], f"{SPEC!r}, {bad!r}, arch='sm_090'"),
                       (["no_such_spec.toml"], f"'no_such_spec.toml', {bad!r}")):
        command = run([venv / "bin" / "tritonpack", "compile", *args, "-o", bad, "--quiet"],
                      cwd=tree, env=env, check=False)
        expect(command.returncode != 0, f"tritonpack compile {' '.join(args)} succeeded")
        raised = run([python, "-c", "import tritonpack\ntry:\n"
                      f"    tritonpack.compile({call})\n"
                      "except tritonpack.CompileError as e:\n    print(e, end='')\nelse:\n    print('no error')"],
                     cwd=tree, env=env).stdout
        expect(raised == command.stderr.strip(),
               f"tritonpack.compile({call}) raised\n{raised}\nbut the command printed\n{command.stderr.strip()}")
    print("tritonpack.compile() raises CompileError with the command's message")


def check_missing_triton(venv: Path, tree: Path, work: Path):
    env = dict(os.environ, TRITONPACK_CACHE_DIR=str(work / "compile-cache-no-triton"))
    for name in ("TRITONPACK_PYTHON", "TRITONPACK_PYTHON_DIR", "TRITONPACK_CLI", "PYTHONPATH"):
        env.pop(name, None)
    python = venv / "bin" / "python"
    has_triton = run([python, "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('triton') is None)"],
                     check=False).returncode == 0
    expect(not has_triton, f"{venv} can import triton before it is given the system's")
    needed = f"tritonpack: Triton is not installed for {python}"
    command = run([venv / "bin" / "tritonpack", "compile", SPEC, "-o", work / "none.tpack"], cwd=tree, env=env,
                  check=False)
    expect(command.returncode != 0 and needed in command.stderr,
           f"tritonpack compile without Triton exited {command.returncode}; expected {needed!r} in:\n{command.stderr}")
    raised = run([python, "-c", "import tritonpack\ntry:\n"
                  f"    tritonpack.compile({SPEC!r}, {str(work / 'none.tpack')!r})\n"
                  "except tritonpack.CompileError as e:\n    print(e, end='')"], cwd=tree, env=env).stdout
    expect(needed in raised, f"tritonpack.compile() without Triton raised {raised!r}; expected {needed!r}")
    print(f"without Triton: {needed} ...")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True, help="the repository")
    parser.add_argument("--work", type=Path, required=True, help="a folder for the copy, the venvs and the build")
    args = parser.parse_args()
    source, work = args.source.resolve(), args.work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()

    reachable, why = index_reachable(sys.executable, work)
    if not reachable:
        print(f"SKIP: pip cannot reach its package index (pip download scikit-build-core: {why}); "
              "pip install . needs it for the build backend")
        return SKIP

    tree = work / "src"
    print(f"copied {copy_clean_tree(source, tree)} files of {source} (tracked, or untracked and not ignored)")
    version = (tree / "VERSION").read_text(encoding="utf-8").strip()

    venv = work / "venv"
    python = make_venv(venv)
    pip_install(python, tree)
    check_versions(venv, version)
    check_wheel_contents(venv)
    check_missing_triton(venv, tree, work)

    see_system_site_packages(venv)
    triton = run([python, "-c", "import importlib.metadata as m; print(m.version('triton'))"],
                 check=False).stdout.strip()
    if triton == "3.6.0":
        check_compile(venv, tree, work)
    print(f"all checks ran in {time.monotonic() - started:.0f} s")
    if triton != "3.6.0":
        print(f"SKIP: the system Python has Triton {triton or 'not installed'}, not 3.6.0: "
              "the compile checks did not run (scripts/setup.sh installs it)")
        return SKIP
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except CheckFailed as e:
        print(f"FAILED: {e}")
        sys.exit(1)
