# Runs `CLI ARGS...` in WORKDIR and compares its stdout with the file GOLDEN.
# TRITONPACK_UPDATE_GOLDEN=1 rewrites GOLDEN with this build's output instead (review the diff).
# Usage: cmake -DCLI=... -DARGS="inspect;x.tpack" -DWORKDIR=... -DGOLDEN=... -P check_golden.cmake
execute_process(COMMAND ${CLI} ${ARGS} WORKING_DIRECTORY ${WORKDIR}
                OUTPUT_VARIABLE actual ERROR_VARIABLE errors RESULT_VARIABLE status)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "${CLI} ${ARGS} failed (${status}):\n${errors}")
endif()
if("$ENV{TRITONPACK_UPDATE_GOLDEN}" STREQUAL "1")
  file(WRITE ${GOLDEN} "${actual}")
  message(STATUS "rewrote ${GOLDEN}")
  return()
endif()
file(READ ${GOLDEN} expected)
if(NOT actual STREQUAL expected)
  get_filename_component(name ${GOLDEN} NAME)
  file(WRITE ${WORKDIR}/${name}.actual "${actual}")
  execute_process(COMMAND diff -u ${GOLDEN} ${WORKDIR}/${name}.actual)
  message(FATAL_ERROR "the output differs from ${GOLDEN} (diff above; TRITONPACK_UPDATE_GOLDEN=1 rewrites it)")
endif()
