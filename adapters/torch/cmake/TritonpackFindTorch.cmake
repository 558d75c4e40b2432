# Finds an installed PyTorch for the op library (docs/torch.md) without find_package(Torch), whose
# config insists on CUDA toolkit details (nvcc, CUDA_HOME, architectures) that an op library calling
# no CUDA compiler does not need. Sets, when found:
#   TRITONPACK_TORCH_ROOT       the folder of the `torch` package (include/, lib/)
#   TRITONPACK_TORCH_VERSION    e.g. 2.11.0+cu130
#   TRITONPACK_TORCH_CXX11_ABI  0 or 1, as the libraries were built
#   TRITONPACK_TORCH_CUDA       the CUDA version torch was built for (empty: a CPU-only build)
# Where from, in order: -DTorch_DIR=<torch>/share/cmake/Torch (then the ABI is read from its
# TorchConfig.cmake and the CUDA build from libc10_cuda.so's presence), else the interpreter
# TRITONPACK_TORCH_PYTHON (default python3) is asked.
# Sets TRITONPACK_TORCH_WHY_NOT to the reason when not found.

# A wheel build (scikit-build-core) asks the interpreter that builds the wheel.
if(SKBUILD AND Python_EXECUTABLE)
  set(_tritonpack_default_torch_python "${Python_EXECUTABLE}")
else()
  set(_tritonpack_default_torch_python "python3")
endif()
set(TRITONPACK_TORCH_PYTHON "${_tritonpack_default_torch_python}" CACHE STRING "Python interpreter whose torch the op library is built against")
set(TRITONPACK_TORCH_WHY_NOT "")
unset(TRITONPACK_TORCH_ROOT)
if(Torch_DIR AND EXISTS "${Torch_DIR}/TorchConfig.cmake")
  get_filename_component(TRITONPACK_TORCH_ROOT "${Torch_DIR}/../../.." ABSOLUTE)
  file(STRINGS "${Torch_DIR}/TorchConfig.cmake" _abi_line REGEX "_GLIBCXX_USE_CXX11_ABI=[01]")
  string(REGEX MATCH "_GLIBCXX_USE_CXX11_ABI=([01])" _abi_match "${_abi_line}")
  set(TRITONPACK_TORCH_CXX11_ABI "${CMAKE_MATCH_1}")
  if(TRITONPACK_TORCH_CXX11_ABI STREQUAL "")
    set(TRITONPACK_TORCH_CXX11_ABI 1)  # TorchConfig.cmake of recent releases no longer states it: 1
  endif()
  set(TRITONPACK_TORCH_VERSION "(from Torch_DIR)")
  if(EXISTS "${TRITONPACK_TORCH_ROOT}/lib/libc10_cuda.so")
    set(TRITONPACK_TORCH_CUDA "(from Torch_DIR)")
  else()
    set(TRITONPACK_TORCH_CUDA "")
  endif()
else()
  find_program(_torch_python NAMES ${TRITONPACK_TORCH_PYTHON} NO_CACHE)
  if(NOT _torch_python)
    set(TRITONPACK_TORCH_WHY_NOT "no Python interpreter '${TRITONPACK_TORCH_PYTHON}' (set TRITONPACK_TORCH_PYTHON or Torch_DIR)")
    return()
  endif()
  execute_process(
    COMMAND ${_torch_python} -c
      "import os, torch; print(os.path.dirname(torch.__file__)); print(torch.__version__); print(int(torch.compiled_with_cxx11_abi())); print(torch.version.cuda or '')"
    OUTPUT_VARIABLE _torch_out ERROR_VARIABLE _torch_err RESULT_VARIABLE _torch_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT _torch_rc EQUAL 0)
    string(REGEX REPLACE ".*\n([^\n]+)\n?$" "\\1" _torch_err_last "${_torch_err}")
    set(TRITONPACK_TORCH_WHY_NOT "${_torch_python} cannot import torch (${_torch_err_last})")
    return()
  endif()
  string(REPLACE "\n" ";" _torch_out "${_torch_out}")
  list(GET _torch_out 0 TRITONPACK_TORCH_ROOT)
  list(GET _torch_out 1 TRITONPACK_TORCH_VERSION)
  list(GET _torch_out 2 TRITONPACK_TORCH_CXX11_ABI)
  list(LENGTH _torch_out _torch_n)
  set(TRITONPACK_TORCH_CUDA "")
  if(_torch_n GREATER 3)
    list(GET _torch_out 3 TRITONPACK_TORCH_CUDA)
  endif()
endif()

foreach(required include/torch/library.h include/c10/cuda/CUDAGuard.h lib/libtorch_cpu.so lib/libc10.so)
  if(NOT EXISTS "${TRITONPACK_TORCH_ROOT}/${required}")
    set(TRITONPACK_TORCH_WHY_NOT "the torch at ${TRITONPACK_TORCH_ROOT} has no ${required}")
    unset(TRITONPACK_TORCH_ROOT)
    return()
  endif()
endforeach()
if(TRITONPACK_TORCH_CUDA STREQUAL "" OR NOT EXISTS "${TRITONPACK_TORCH_ROOT}/lib/libc10_cuda.so")
  set(TRITONPACK_TORCH_WHY_NOT "the torch at ${TRITONPACK_TORCH_ROOT} (${TRITONPACK_TORCH_VERSION}) is a CPU-only build")
  unset(TRITONPACK_TORCH_ROOT)
  return()
endif()
