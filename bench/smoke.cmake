# bench.smoke: `microbenchmark --quick` writes its report into OUT, then
# check_report checks the report and the JSON lines of its stdout.
# Arguments: BENCH, CHECK (programs), OUT (directory), RAY (ray_2_48.json).
file(REMOVE_RECURSE ${OUT}) # never check an earlier run's files
execute_process(COMMAND ${BENCH} --quick --out ${OUT} --revision smoke-test
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "microbenchmark --quick exited with ${rc}")
endif()
file(WRITE ${OUT}/stdout.jsonl "${out}")
execute_process(COMMAND ${CHECK} ${OUT} ${RAY} ${OUT}/stdout.jsonl
  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
message("${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "check_report found problems in ${OUT}")
endif()
