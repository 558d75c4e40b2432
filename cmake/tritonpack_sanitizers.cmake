# Sanitizer builds of the libraries and the tests that run on the fake driver (no GPU needed);
# scripts/test.sh builds and runs them in build-tsan and build-ubsan.
#   TRITONPACK_SANITIZER=thread     ThreadSanitizer: data races (tests/fault/stress_test.cpp mixes
#                                   launch, unload and plugin lifetimes across threads)
#   TRITONPACK_SANITIZER=undefined  UndefinedBehaviorSanitizer; a finding aborts the test, so it
#                                   fails instead of printing a warning that nobody reads
# The options reach every target built here through tritonpack_sanitizer, which the runtime
# libraries link publicly in the build tree only (cmake/tritonpack_libraries.cmake): what links the
# runtime is compiled and linked the same way. GoogleTest stays Debian's prebuilt library,
# uninstrumented: TSan still sees its locking (pthread mutexes, which it intercepts), and the
# tests' worker threads make no gtest calls (they collect outcomes that the main thread checks);
# the TSan build reports nothing from it.
#
# The fuzz build (TRITONPACK_FUZZ, clang) has its own: ASan and UBSan on every target it builds
# (tests/fuzz/CMakeLists.txt, and the TensorRT adapter's fuzz target), UBSan not recovering.
set(TRITONPACK_FUZZ_SANITIZERS address,undefined)

set(TRITONPACK_SANITIZER "" CACHE STRING "Build with a sanitizer: thread or undefined (empty: none)")
set_property(CACHE TRITONPACK_SANITIZER PROPERTY STRINGS "" thread undefined)

add_library(tritonpack_sanitizer INTERFACE)
if(TRITONPACK_SANITIZER STREQUAL "thread")
  # -g1: line tables, enough for the reports' stacks at a fraction of full debug info's build time.
  target_compile_options(tritonpack_sanitizer INTERFACE -fsanitize=thread -fno-omit-frame-pointer -g1)
  target_link_options(tritonpack_sanitizer INTERFACE -fsanitize=thread)
elseif(TRITONPACK_SANITIZER STREQUAL "undefined")
  target_compile_options(tritonpack_sanitizer INTERFACE -fsanitize=undefined -fno-sanitize-recover=undefined
                                                        -fno-omit-frame-pointer -g1)
  target_link_options(tritonpack_sanitizer INTERFACE -fsanitize=undefined)
elseif(NOT TRITONPACK_SANITIZER STREQUAL "")
  message(FATAL_ERROR "TRITONPACK_SANITIZER must be thread, undefined or empty; it is '${TRITONPACK_SANITIZER}'")
endif()
if(TRITONPACK_SANITIZER AND TRITONPACK_FUZZ)
  message(FATAL_ERROR "TRITONPACK_SANITIZER and TRITONPACK_FUZZ are separate builds (the fuzz build has its own)")
endif()
