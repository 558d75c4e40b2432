# Runs COMMAND (a list), prints what it printed (stdout and stderr) for the test's
# PASS_REGULAR_EXPRESSION, and prints EXIT-STATUS-MISMATCH (the test's FAIL_REGULAR_EXPRESSION)
# unless it exited as EXPECT says: "ok" (0) or "error" (a nonzero code; a crash is neither). CTest
# ignores a command's exit status once a test has a PASS_REGULAR_EXPRESSION; this keeps it checked.
# Exit 77 (a wrapper that skips) is left to the test's SKIP_REGULAR_EXPRESSION.
# Usage (tritonpack_cli_test in tests/CMakeLists.txt):
#   cmake "-DCOMMAND=cli;inspect;x.tpack" -DEXPECT=ok|error [-DWORKDIR=...] -P check_exit.cmake
if(NOT WORKDIR)
  set(WORKDIR .)
endif()
execute_process(COMMAND ${COMMAND} WORKING_DIRECTORY ${WORKDIR} OUTPUT_VARIABLE output ERROR_VARIABLE output
                RESULT_VARIABLE status)
message(NOTICE "${output}")
if(status EQUAL 77)
  return()
endif()
if(EXPECT STREQUAL "ok")
  set(ok FALSE)
  if(status EQUAL 0)
    set(ok TRUE)
  endif()
elseif(EXPECT STREQUAL "error")
  set(ok FALSE)
  if(status MATCHES "^[0-9]+$" AND NOT status EQUAL 0)
    set(ok TRUE)
  endif()
else()
  message(FATAL_ERROR "EXPECT must be ok or error, not '${EXPECT}'")
endif()
if(NOT ok)
  message(NOTICE "EXIT-STATUS-MISMATCH: expected ${EXPECT}, the command exited with '${status}'")
endif()
