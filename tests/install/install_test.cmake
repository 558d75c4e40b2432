# Installs the existing build tree into a fresh prefix (nothing of tritonpack is rebuilt), checks
# what was installed, then configures, builds and runs tests/install/consumer against it.
# Run by ctest (tests/install/CMakeLists.txt) as cmake -P with:
#   BUILD_DIR SOURCE_DIR WORK_DIR CONFIG GENERATOR MAKE_PROGRAM CXX_COMPILER NM READELF VERSION PACK
#   CUDA_ROOT and PYTHON (a Python 3 interpreter) may be empty

foreach(variable BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER NM READELF VERSION PACK)
  if("${${variable}}" STREQUAL "")
    message(FATAL_ERROR "install_test.cmake: ${variable} is not set")
  endif()
endforeach()

# Runs a command; on a nonzero exit prints what it said and fails the test.
function(run_step what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${what} failed (${result}):\n${output}")
  endif()
endfunction()

# Runs a program and checks its exit status and that its output matches a regular expression.
function(expect_output program expected_result regex)
  execute_process(COMMAND ${program} ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
  if(NOT result STREQUAL expected_result OR NOT output MATCHES "${regex}")
    message(FATAL_ERROR "${program} ${ARGN}: exit ${result} (expected ${expected_result}), output:\n${output}\n"
                        "expected output matching:\n${regex}")
  endif()
  message(STATUS "${program} ${ARGN}: ok")
endfunction()

set(prefix ${WORK_DIR}/prefix)
file(REMOVE_RECURSE ${WORK_DIR})
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
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

# The consumer, in a separate project. find_package(nlohmann_json) and find_package(tomlplusplus)
# are disabled there: the package must not need them.
set(consumer ${WORK_DIR}/consumer)
set(configure_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
                   -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON)
if(MAKE_PROGRAM)
  list(APPEND configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CONFIG)
  list(APPEND configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
endif()
if(CUDA_ROOT)
  list(APPEND configure_args -DCUDAToolkit_ROOT=${CUDA_ROOT})
endif()
run_step("configuring the consumer" ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${consumer} ${configure_args})
run_step("building the consumer" ${CMAKE_COMMAND} --build ${consumer} ${config_args})

# A consumer program: in the build folder, or in its configuration's for a multi-config generator.
function(consumer_binary program out)
  set(binary ${consumer}/${CONFIG}/${program})
  if(NOT EXISTS ${binary})
    set(binary ${consumer}/${program})
  endif()
  if(NOT EXISTS ${binary})
    message(FATAL_ERROR "no ${program} in ${consumer}")
  endif()
  set(${out} ${binary} PARENT_SCOPE)
endfunction()

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
