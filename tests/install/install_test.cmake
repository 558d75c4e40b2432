# Installs the existing build tree into a fresh prefix (nothing of tritonpack is rebuilt), checks
# what was installed, then configures, builds and runs tests/install/consumer against it.
# Run by ctest (tests/install/CMakeLists.txt) as cmake -P with:
#   BUILD_DIR SOURCE_DIR WORK_DIR CONFIG GENERATOR MAKE_PROGRAM CXX_COMPILER NM READELF VERSION PACK
#   CUDA_ROOT and PYTHON (a Python 3 interpreter) may be empty

if("${PACK}" STREQUAL "")
  message(FATAL_ERROR "install_test.cmake: PACK is not set")
endif()
include(${CMAKE_CURRENT_LIST_DIR}/install_helpers.cmake)

file(REMOVE_RECURSE ${WORK_DIR})
run_step("cmake --install" ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix} ${config_args})

# The package, and no third-party target in its link interfaces: toml++ and nlohmann_json are
# compiled into the libraries, and a consumer need not have them.
set(package ${prefix}/lib/cmake/tritonpack)
foreach(file tritonpackConfig.cmake tritonpackConfigVersion.cmake tritonpackTargets.cmake
             ../../../include/tritonpack/runtime.h ../../../include/tritonpack/tritonpack.h)
  if(NOT EXISTS ${package}/${file})
    message(FATAL_ERROR "not installed: ${package}/${file}")
  endif()
endforeach()
file(READ ${package}/tritonpackTargets.cmake targets)
if(targets MATCHES "(nlohmann|toml)[^\n]*")
  message(FATAL_ERROR "tritonpackTargets.cmake names a third-party dependency: ${CMAKE_MATCH_0}")
endif()

# The runtime holds no TOML reader (toml++ is header-only, so look for its symbols).
foreach(library libtritonpack_runtime.a libtritonpack_runtime.so)
  execute_process(COMMAND ${NM} -C ${prefix}/lib/${library} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
  if(NOT result EQUAL 0 OR symbols STREQUAL "")
    message(FATAL_ERROR "${NM} could not read ${prefix}/lib/${library}")
  endif()
  if(symbols MATCHES "[^\n]*toml::[^\n]*")
    message(FATAL_ERROR "${library} holds toml++ code: ${CMAKE_MATCH_0}")
  endif()
endforeach()

# The shared runtime exports the C API and the tritonpack namespace only (cmake/tritonpack_runtime.map).
execute_process(COMMAND ${NM} -C -D --defined-only ${prefix}/lib/libtritonpack_runtime.so
                OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
string(REGEX MATCHALL "[^\n]+" lines "${symbols}")
list(LENGTH lines count)
if(NOT result EQUAL 0 OR count LESS 10)
  message(FATAL_ERROR "${NM} -D found ${count} symbols in libtritonpack_runtime.so:\n${symbols}")
endif()
foreach(line IN LISTS lines)
  if(NOT line MATCHES "^[0-9a-f]+ [A-Za-z] (tp_[a-z_]+|((typeinfo|typeinfo name|vtable|guard variable) for )?tritonpack::)")
    message(FATAL_ERROR "libtritonpack_runtime.so exports a symbol outside tp_* and tritonpack::\n${line}")
  endif()
endforeach()
if(NOT symbols MATCHES " T tp_version\n" OR NOT symbols MATCHES "typeinfo for tritonpack::Error\n")
  message(FATAL_ERROR "libtritonpack_runtime.so does not export tp_version and tritonpack::Error's typeinfo:\n${symbols}")
endif()

# The consumer, in a separate project.
run_step("configuring the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${consumer} ${consumer_configure_args})
run_step("building the consumer" ${CMAKE_COMMAND} --build ${consumer} ${config_args})

string(REPLACE "." "\\." version_regex "${VERSION}")
foreach(program consumer_static consumer_shared)
  consumer_binary(${program} binary)
  # Each links what it says: the shared one needs libtritonpack_runtime.so, the static one not.
  execute_process(COMMAND ${READELF} -d ${binary} OUTPUT_VARIABLE dynamic RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${READELF} -d ${binary} failed")
  endif()
  string(FIND "${dynamic}" "libtritonpack_runtime.so" at)
  if(program STREQUAL "consumer_shared" AND at EQUAL -1)
    message(FATAL_ERROR "${program} does not load libtritonpack_runtime.so:\n${dynamic}")
  elseif(program STREQUAL "consumer_static" AND NOT at EQUAL -1)
    message(FATAL_ERROR "${program} loads libtritonpack_runtime.so:\n${dynamic}")
  endif()
  expect_output(${binary} 0 "^tritonpack ${version_regex}\nkernel vector_add: [0-9]+ variants\nkernel vector_add_copy: [0-9]+ variants\nvector_add arguments: x y out n\n$"
                ${PACK})
  expect_output(${binary} 1 "error: cannot open pack '[^\n]*missing\\.tpack': "
                ${WORK_DIR}/missing.tpack)
endforeach()

consumer_binary(consumer_compiler binary)
expect_output(${binary} 0 "^spec vector_add: [1-9][0-9]* compile jobs\n$" ${SOURCE_DIR}/kernels/vector_add/vector_add.toml)

if(EXISTS ${prefix}/bin/tritonpack)
  expect_output(${prefix}/bin/tritonpack 0 "^tritonpack ${version_regex}\n$" --version)
  if(NOT EXISTS ${prefix}/share/tritonpack/python/tritonpack_compile/__main__.py)
    message(FATAL_ERROR "the CLI is installed without its compile step (share/tritonpack/python)")
  endif()
  # The installed CLI finds the installed Python packages by itself (beside the executable; the
  # source tree is only for the build tree's CLI): import-plugingen needs Python but no Triton.
  expect_output(${CMAKE_COMMAND} 0 "wrote [^\n]*fmha\\.toml\n"
                -E env --unset=TRITONPACK_PYTHON_DIR ${prefix}/bin/tritonpack import-plugingen
                ${SOURCE_DIR}/tests/plugingen/fmha_kernel_config.py -o ${WORK_DIR}/fmha.toml)
  # And the installed package tritonpack finds the installed CLI and knows the version.
  if(PYTHON)
    string(REGEX REPLACE "([][+.*?()^$|\\])" "\\\\\\1" prefix_regex "${prefix}")
    expect_output(${CMAKE_COMMAND} 0 "^${prefix_regex}/bin/tritonpack ${version_regex}\n$"
                  -E env --unset=TRITONPACK_CLI PYTHONPATH=${prefix}/share/tritonpack/python
                  ${PYTHON} -c "import tritonpack\nprint(tritonpack.cli_path(), tritonpack.__version__)")
  endif()
endif()
