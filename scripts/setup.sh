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
