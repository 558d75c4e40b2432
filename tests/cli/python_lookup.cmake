# Where the CLI looks for its Python packages (src/cli/python_module.h), on a copy of the CLI that
# is neither in the build tree nor installed: first with nothing beside it (the error names every
# place tried, and the source tree is not used for a copy), then with the Python packages laid out
# beside it as an install has them (import-plugingen, which needs no Triton, then runs).
# Run by ctest (tests/cli/CMakeLists.txt) as cmake -P with CLI SOURCE_DIR WORK_DIR FROM_BIN
# (TRITONPACK_PYTHON_DIR_FROM_BIN: the installed packages relative to the installed CLI's folder).
foreach(variable CLI SOURCE_DIR WORK_DIR FROM_BIN)
  if("${${variable}}" STREQUAL "")
    message(FATAL_ERROR "python_lookup.cmake: ${variable} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
set(copy ${WORK_DIR}/prefix/bin/tritonpack)
file(MAKE_DIRECTORY ${WORK_DIR}/prefix/bin)
file(COPY_FILE ${CLI} ${copy})
set(config ${SOURCE_DIR}/tests/plugingen/fmha_kernel_config.py)
set(command ${CMAKE_COMMAND} -E env --unset=TRITONPACK_PYTHON_DIR ${copy} import-plugingen ${config}
            -o ${WORK_DIR}/fmha.toml)

execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
cmake_path(ABSOLUTE_PATH FROM_BIN BASE_DIRECTORY ${WORK_DIR}/prefix/bin NORMALIZE OUTPUT_VARIABLE beside)
set(expected "cannot find tritonpack's Python package 'tritonpack_plugingen'; looked in:
  $TRITONPACK_PYTHON_DIR: not set
  beside the executable (${copy}): ${beside} has no tritonpack_plugingen/__main__.py
  the source tree: ${SOURCE_DIR}/python (not used: this executable is not the one built in ")
string(FIND "${output}" "${expected}" at)
if(result EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "a copied CLI with nothing beside it: exit ${result}, output:\n${output}\nexpected:\n${expected}")
endif()
message(STATUS "a copied CLI names the places it tried:\n${output}")

file(COPY ${SOURCE_DIR}/python/ DESTINATION ${beside} PATTERN "__pycache__" EXCLUDE)
execute_process(COMMAND ${command} RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT result EQUAL 0 OR NOT EXISTS ${WORK_DIR}/fmha.toml)
  message(FATAL_ERROR "a copied CLI with the Python packages at ${beside}: exit ${result}, output:\n${output}")
endif()
message(STATUS "a copied CLI runs the Python packages at ${beside}")
