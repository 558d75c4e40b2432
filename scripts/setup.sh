#!/usr/bin/env bash
# Installs what tritonpack needs to build and test, if missing: Debian packages (compiler, CMake,
# GoogleTest, nlohmann-json, toml++, CLI11, clang for fuzzing) and Triton 3.6.0 from PyPI.
# The CUDA toolkit headers (cuda.h) must already be there (/usr/local/cuda); no GPU is needed.
set -euo pipefail
packages=(cmake ninja-build g++ libgtest-dev nlohmann-json3-dev libtomlplusplus-dev libcli11-dev clang)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""; [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}" >/dev/null
fi
python=${TRITONPACK_PYTHON:-python3}
if ! "$python" -c 'import importlib.metadata as m, sys; sys.exit(m.version("triton") != "3.6.0")' 2>/dev/null; then
  echo "setup: installing triton==3.6.0 for $python"
  "$python" -m pip install -q triton==3.6.0
fi
# numpy: the CPU check of the attention kernel under Triton's interpreter (tests/python).
if ! "$python" -c 'import numpy' 2>/dev/null; then
  echo "setup: installing numpy for $python"
  "$python" -m pip install -q numpy
fi
if ! command -v nvcc >/dev/null && [ ! -f /usr/local/cuda/include/cuda.h ]; then
  echo "setup: the CUDA toolkit headers (cuda.h) are missing; install the CUDA toolkit" >&2
  exit 1
fi
# The real TensorRT lean runtime for the TensorRT adapter's registry tests: only
# libnvinfer_lean.so.10 of PyPI's tensorrt-lean-cu13-libs wheel (44 MB download), kept in the
# git-ignored .cache/tensorrt-lean and fetched once. TRITONPACK_TENSORRT_LEAN_WHEEL=path.whl takes a
# wheel already here instead (a machine without network). If it cannot be had, those tests report
# themselves SKIPPED; nothing else depends on it.
lean_dir="$(cd "$(dirname "$0")/.." && pwd)/.cache/tensorrt-lean"
if [ ! -f "$lean_dir/libnvinfer_lean.so.10" ]; then
  lean_tmp=$(mktemp -d)
  wheel=${TRITONPACK_TENSORRT_LEAN_WHEEL:-}
  if [ -z "$wheel" ]; then
    echo "setup: fetching libnvinfer_lean.so.10 (tensorrt-lean-cu13-libs==10.16.1.11) for the TensorRT registry tests"
    "$python" -m pip download -q --no-deps --dest "$lean_tmp" tensorrt-lean-cu13-libs==10.16.1.11 >/dev/null 2>&1 &&
      wheel=$(ls "$lean_tmp"/*.whl 2>/dev/null | head -n 1)
  fi
  if [ -n "$wheel" ] && "$python" - "$wheel" "$lean_tmp/libnvinfer_lean.so.10" 2>/dev/null <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("tensorrt_lean_libs/libnvinfer_lean.so.10") as src, \
        open(sys.argv[2], "wb") as dst:
    shutil.copyfileobj(src, dst)
PY
  then
    mkdir -p "$lean_dir"
    mv "$lean_tmp/libnvinfer_lean.so.10" "$lean_dir/"
  else
    echo "setup: could not get libnvinfer_lean.so.10; the TensorRT registry tests will report SKIPPED" >&2
  fi
  rm -rf "$lean_tmp"
fi
