# The TensorRT adapter in the tree install_consumer installed (tests/install/CMakeLists.txt). Run by
# ctest as cmake -P with the install tests' variables and:
#   STEP                  build or registry
#   TENSORRT_INCLUDE_DIR  the TensorRT headers given to the consumer as its TensorRT_INCLUDE_DIR
#   TENSORRT_PACKS        |-separated packs serving tritonpack_fmha 1 (the first) and fused_attention_kernel 0
#   LEAN                  libnvinfer_lean.so.10 ($ENV{TRITONPACK_TENSORRT_LEAN} overrides it)
#
# build: what the adapter installed; that no installed CMake file names this build's TensorRT
#   headers or trees; find_package(tritonpack COMPONENTS TensorRT) refusing, with the reason, a
#   folder without headers, headers of another major version and an install without the adapter;
#   tritonpack_add_tensorrt_plugins refusing to run without the component; then the consumer
#   project (install_consumer's build folder) configured with CONSUMER_TENSORRT builds
#   libconsumer_plugins.so with the packs embedded: self-contained (no libtritonpack_runtime.so,
#   no libnvinfer), exporting getCreators and setLoggerFinder only.
# registry: consumer_tensorrt_registry loads that library, and the installed generic library
#   serving the first pack, in the lean runtime's registry and finds their creators; SKIPPED
#   without the lean runtime.

foreach(variable STEP TENSORRT_INCLUDE_DIR TENSORRT_PACKS LEAN)
  if("${${variable}}" STREQUAL "")
    message(FATAL_ERROR "install_tensorrt_test.cmake: ${variable} is not set")
  endif()
endforeach()
include(${CMAKE_CURRENT_LIST_DIR}/install_helpers.cmake)
string(REPLACE "|" ";" packs "${TENSORRT_PACKS}")
list(GET packs 0 fmha_pack)

if(STEP STREQUAL "build")
  foreach(file include/tritonpack/tensorrt/plugin.h lib/libtritonpack_tensorrt_adapter.a lib/libtritonpack_tensorrt.so
               lib/cmake/tritonpack/tritonpackTensorRTComponent.cmake lib/cmake/tritonpack/tritonpackTensorRTTargets.cmake
               share/tritonpack/tensorrt/cmake/TritonpackTensorRT.cmake share/tritonpack/tensorrt/src/library.cpp
               share/tritonpack/tensorrt/src/library.h share/tritonpack/tensorrt/src/library_embedded.cpp
               share/tritonpack/tensorrt/src/embedded_packs.h share/tritonpack/tensorrt/src/exports.map)
    if(NOT EXISTS ${prefix}/${file})
      message(FATAL_ERROR "the TensorRT adapter was built, but ${prefix}/${file} was not installed")
    endif()
  endforeach()

  # The installed package takes its user's TensorRT: nothing in it may name the headers this build
  # used (the CI fallback among them) or the build tree; the adapter's targets name no third-party
  # package (toml++ and nlohmann_json are compiled into the libraries).
  file(GLOB_RECURSE cmake_files ${prefix}/lib/cmake/tritonpack/*.cmake ${prefix}/share/tritonpack/tensorrt/cmake/*.cmake)
  foreach(file IN LISTS cmake_files)
    file(READ ${file} text)
    set(forbidden "${TENSORRT_INCLUDE_DIR}" "third_party/tensorrt" "${BUILD_DIR}/")
    if(file MATCHES "tritonpackTensorRTTargets")
      list(APPEND forbidden "nlohmann" "toml")
    endif()
    foreach(name IN LISTS forbidden)
      string(FIND "${text}" "${name}" at)
      if(NOT at EQUAL -1)
        message(FATAL_ERROR "the installed ${file} names '${name}'")
      endif()
    endforeach()
  endforeach()

  # Refusals, each in a folder of its own; CMake wraps long messages, so they are matched with
  # their whitespace collapsed.
  function(expect_configure_error folder regex)
    execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/${folder}
                            ${consumer_configure_args} ${ARGN}
                    RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
    string(REGEX REPLACE "[ \t\r\n]+" " " flat "${output}")
    if(result EQUAL 0 OR NOT flat MATCHES "${regex}")
      message(FATAL_ERROR "configuring the consumer with ${ARGN}: exit ${result} (expected a failure), output:\n"
                          "${output}\nexpected output matching:\n${regex}")
    endif()
    message(STATUS "configuring the consumer with ${ARGN}: refused as expected")
  endfunction()
  expect_configure_error(no-headers
    "component TensorRT: no TensorRT headers \\(NvInferRuntime\\.h\\) in TensorRT_INCLUDE_DIR='[^']*/no-tensorrt': set TensorRT_ROOT or TensorRT_INCLUDE_DIR to your TensorRT [0-9]+\\.[0-9]+"
    -DCONSUMER_TENSORRT=ON -DTensorRT_INCLUDE_DIR=${WORK_DIR}/no-tensorrt)
  # Headers of a TensorRT 999: an NvInferRuntime.h and the version lines of an NvInferVersion.h.
  set(future ${WORK_DIR}/tensorrt-999/include)
  file(WRITE ${future}/NvInferRuntime.h "// not TensorRT: a stand-in for install_tensorrt_test.cmake\n")
  file(WRITE ${future}/NvInferVersion.h "#define NV_TENSORRT_MAJOR 999\n#define NV_TENSORRT_MINOR 0\n")
  expect_configure_error(other-major
    "component TensorRT: tritonpack's TensorRT adapter was built against TensorRT [0-9]+\\.[0-9]+, and the headers in [^ ]*/tensorrt-999/include are TensorRT '999\\.0'"
    -DCONSUMER_TENSORRT=ON -DTensorRT_INCLUDE_DIR=${future})
  # A tritonpack installed without the adapter: this install without the component's files (a
  # later -DCMAKE_PREFIX_PATH wins).
  set(bare ${WORK_DIR}/prefix-without-tensorrt)
  file(REMOVE_RECURSE ${bare})
  file(COPY ${prefix}/ DESTINATION ${bare} PATTERN "tritonpackTensorRT*" EXCLUDE)
  expect_configure_error(without-adapter
    "component TensorRT: this tritonpack \\([^)]*/prefix-without-tensorrt\\) was installed without its TensorRT adapter"
    -DCONSUMER_TENSORRT=ON -DCMAKE_PREFIX_PATH=${bare})
  expect_configure_error(no-component
    "tritonpack_add_tensorrt_plugins\\(consumer_plugins\\): tritonpack's TensorRT adapter is not available: ask for it with find_package\\(tritonpack \\.\\.\\. COMPONENTS TensorRT\\)"
    -DCONSUMER_TENSORRT_WITHOUT_COMPONENT=ON)

  # The consumer again (install_consumer configured and built it), now with the TensorRT component.
  run_step("configuring the consumer with TensorRT" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${consumer}
           ${consumer_configure_args} -DCONSUMER_TENSORRT=ON -DTensorRT_INCLUDE_DIR=${TENSORRT_INCLUDE_DIR}
           "-DCONSUMER_TENSORRT_PACKS=${TENSORRT_PACKS}")
  run_step("building the consumer with TensorRT" ${CMAKE_COMMAND} --build ${consumer} ${config_args})

  consumer_binary(libconsumer_plugins.so library)
  # Self-contained: tritonpack linked in statically, no TensorRT library linked (TensorRT loads it).
  execute_process(COMMAND ${READELF} -d ${library} OUTPUT_VARIABLE dynamic RESULT_VARIABLE result)
  if(NOT result EQUAL 0 OR NOT dynamic MATCHES "NEEDED")
    message(FATAL_ERROR "${READELF} -d ${library} failed:\n${dynamic}")
  endif()
  if(dynamic MATCHES "\\[[^]\n]*(tritonpack|nvinfer)[^]\n]*\\]")
    message(FATAL_ERROR "${library} needs ${CMAKE_MATCH_0}:\n${dynamic}")
  endif()
  # Exactly the two entry points TensorRT looks for.
  execute_process(COMMAND ${NM} -D --defined-only ${library} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
  string(REGEX MATCHALL "[^\n]+" lines "${symbols}")
  list(TRANSFORM lines REPLACE "^[0-9a-f]+ [A-Za-z] " "")
  list(SORT lines)
  if(NOT result EQUAL 0 OR NOT lines STREQUAL "getCreators;setLoggerFinder")
    message(FATAL_ERROR "${library} exports other than getCreators and setLoggerFinder:\n${symbols}")
  endif()
  # The packs are inside it.
  file(SIZE ${library} library_bytes)
  set(pack_bytes 0)
  foreach(pack IN LISTS packs)
    file(SIZE ${pack} bytes)
    math(EXPR pack_bytes "${pack_bytes} + ${bytes}")
  endforeach()
  if(library_bytes LESS pack_bytes)
    message(FATAL_ERROR "${library} has ${library_bytes} bytes, less than its packs' ${pack_bytes}")
  endif()
  message(STATUS "${library}: self-contained, exports getCreators and setLoggerFinder, embeds ${pack_bytes} bytes of packs")

elseif(STEP STREQUAL "registry")
  set(lean ${LEAN})
  if(NOT "$ENV{TRITONPACK_TENSORRT_LEAN}" STREQUAL "")
    set(lean $ENV{TRITONPACK_TENSORRT_LEAN})
  endif()
  if(NOT EXISTS ${lean})
    message("SKIPPED: no lean TensorRT runtime at ${lean} (scripts/setup.sh fetches tensorrt-lean-cu13-libs into "
            ".cache/tensorrt-lean; TRITONPACK_TENSORRT_LEAN names another)")
    return()
  endif()
  consumer_binary(consumer_tensorrt_registry program)
  consumer_binary(libconsumer_plugins.so library)
  expect_output(${program} 0 "creator tritonpack_fmha version 1 namespace tritonpack fields: sm_scale \\(kFLOAT32\\)\n.*found: fused_attention_kernel 0\n"
                ${lean} ${library} tritonpack_fmha/1 fused_attention_kernel/0)
  # The installed generic library, serving the pack TRITONPACK_TENSORRT_PACKS names; asked for a
  # plugin it does not serve, the program says so.
  set(ENV{TRITONPACK_TENSORRT_PACKS} ${fmha_pack})
  expect_output(${program} 0 "creator tritonpack_fmha version 1 namespace tritonpack fields: sm_scale \\(kFLOAT32\\)\nfound: tritonpack_fmha 1\n"
                ${lean} ${prefix}/lib/libtritonpack_tensorrt.so tritonpack_fmha/1)
  expect_output(${program} 1 "error: the registry has no creator fused_attention_kernel version 0 namespace tritonpack"
                ${lean} ${prefix}/lib/libtritonpack_tensorrt.so fused_attention_kernel/0)
else()
  message(FATAL_ERROR "install_tensorrt_test.cmake: STEP is '${STEP}', not build or registry")
endif()
