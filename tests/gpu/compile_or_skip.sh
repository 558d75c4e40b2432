#!/usr/bin/env bash
# Compiles a shipped kernel spec into a pack for the tests; exit 77 (skipped) without Triton.
# A PluginGen kernel config (.py) is first converted with `tritonpack import-plugingen`.
# Arguments after the first three go to `tritonpack compile` (e.g. --keep-ir).
set -eu
cli=$1 spec=$2 out=$3
shift 3
python=${TRITONPACK_PYTHON:-python3}
if ! "$python" -c 'import importlib.metadata as m; m.version("triton")' >/dev/null 2>&1; then
  echo "SKIPPED: no Triton for $python (pip install triton==3.6.0)"
  exit 77
fi
mkdir -p "$(dirname "$out")"
if [[ $spec == *.py ]]; then
  "$cli" import-plugingen "$spec" -o "${out%.tpack}.toml"
  spec=${out%.tpack}.toml
fi
exec "$cli" compile "$spec" -o "$out" "$@"
