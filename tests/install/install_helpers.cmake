# What the install tests' scripts share (install_test.cmake, install_tensorrt_test.cmake): running
# steps and programs, configuring the consumer project against the installed prefix, finding its
# programs. Expects the variables every step is given (tests/install/CMakeLists.txt).

foreach(variable BUILD_DIR SOURCE_DIR WORK_DIR GENERATOR CXX_COMPILER NM READELF VERSION)
  if("${${variable}}" STREQUAL "")
    message(FATAL_ERROR "${CMAKE_CURRENT_LIST_FILE}: ${variable} is not set")
  endif()
endforeach()

set(prefix ${WORK_DIR}/prefix)
set(consumer ${WORK_DIR}/consumer)
set(config_args)
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()

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

# The arguments that configure the consumer project against the installed prefix.
# find_package(nlohmann_json) and find_package(tomlplusplus) are disabled there: the package must
# not need them.
set(consumer_configure_args -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix}
                            -DCMAKE_DISABLE_FIND_PACKAGE_nlohmann_json=ON -DCMAKE_DISABLE_FIND_PACKAGE_tomlplusplus=ON)
if(MAKE_PROGRAM)
  list(APPEND consumer_configure_args -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()
if(CONFIG)
  list(APPEND consumer_configure_args -DCMAKE_BUILD_TYPE=${CONFIG})
endif()
if(CUDA_ROOT)
  list(APPEND consumer_configure_args -DCUDAToolkit_ROOT=${CUDA_ROOT})
endif()

# A file the consumer built: in its build folder, or in its configuration's for a multi-config
# generator.
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
