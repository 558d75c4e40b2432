"""The project's one version (VERSION) is what each reader of it says, without installing anything.

    python3 version_check.py --source REPO --cli BUILT_CLI

Checks `tritonpack --version` (the built CLI), tritonpack.__version__ from the source tree, and
that pyproject.toml's version provider reads VERSION and yields the same text. (tp_version() is
checked against the same version by capi_c_test; the installed wheel by pip_install.)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--source", type=Path, required=True)
    parser.add_argument("--cli", required=True)
    args = parser.parse_args()
    version_text = (args.source / "VERSION").read_text(encoding="utf-8")
    version = version_text.strip()
    failures = []
    if not re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", version):
        failures.append(f"VERSION holds {version!r}, not MAJOR.MINOR.PATCH")

    shown = subprocess.run([args.cli, "--version"], capture_output=True, text=True).stdout.strip()
    if shown != f"tritonpack {version}":
        failures.append(f"{args.cli} --version printed {shown!r}")

    env = dict(os.environ, PYTHONPATH=str(args.source / "python"))
    module = subprocess.run([sys.executable, "-c", "import tritonpack; print(tritonpack.__version__)"],
                            capture_output=True, text=True, env=env)
    if module.stdout.strip() != version:
        failures.append(f"tritonpack.__version__ from the source tree is {module.stdout.strip()!r} {module.stderr}")

    try:
        import tomllib
    except ModuleNotFoundError:
        print("SKIP: no tomllib (Python < 3.11): pyproject.toml's version provider is not checked")
        return 77 if not failures else 1
    pyproject = tomllib.loads((args.source / "pyproject.toml").read_text(encoding="utf-8"))
    provider = pyproject["tool"]["scikit-build"]["metadata"]["version"]
    if "version" in pyproject["project"] or "version" not in pyproject["project"].get("dynamic", []):
        failures.append("pyproject.toml's [project] version must be dynamic, read from VERSION")
    if provider.get("provider") != "scikit_build_core.metadata.regex" or provider.get("input") != "VERSION":
        failures.append(f"pyproject.toml's version provider does not read VERSION: {provider}")
    else:
        # What scikit-build-core's regex provider does with these settings (re.MULTILINE, group 'value').
        match = re.search(provider["regex"], version_text, re.MULTILINE)
        if not match or match.group("value") != version:
            failures.append(f"pyproject.toml's version regex gives {match and match.group('value')!r} on VERSION")

    for failure in failures:
        print(f"FAILED: {failure}")
    if not failures:
        print(f"VERSION {version}: tritonpack --version, tritonpack.__version__ and pyproject.toml agree")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
