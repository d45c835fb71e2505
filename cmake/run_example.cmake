# Runs PROGRAM (under LAUNCHER, if given) and fails unless it exits 0 and its
# output matches every regex in EXPECT.
execute_process(COMMAND ${LAUNCHER} ${PROGRAM} OUTPUT_VARIABLE out ERROR_VARIABLE err
  RESULT_VARIABLE rc)
message("${out}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${rc}\n${err}")
endif()
foreach(re IN LISTS EXPECT)
  if(NOT out MATCHES "${re}")
    message(FATAL_ERROR "output of ${PROGRAM} lacks a line matching: ${re}")
  endif()
endforeach()
