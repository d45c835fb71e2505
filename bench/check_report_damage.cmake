# bench.check_report_rejects_damage: check_report accepts a copy of the smoke
# report, then must reject it after each kind of damage.
# Arguments: CHECK (program), REPORT (the smoke report), RAY, WORK (scratch directory).

function(fresh_copy)
  file(REMOVE_RECURSE ${WORK})
  file(COPY ${REPORT}/ DESTINATION ${WORK})
endfunction()

function(check expect_ok what)
  execute_process(COMMAND ${CHECK} ${WORK} ${RAY} OUTPUT_QUIET ERROR_VARIABLE err
    RESULT_VARIABLE rc)
  if(expect_ok AND NOT rc EQUAL 0)
    message(FATAL_ERROR "check_report rejected ${what}:\n${err}")
  elseif(NOT expect_ok AND rc EQUAL 0)
    message(FATAL_ERROR "check_report accepted a report with ${what}")
  endif()
  message("${what}: ${err}")
endfunction()

# damage(FILE WHAT REGEX REPLACEMENT): a fresh copy with FILE edited; must be rejected.
function(damage file what regex replacement)
  fresh_copy()
  file(READ ${WORK}/${file} text)
  string(REGEX REPLACE "${regex}" "${replacement}" damaged "${text}")
  if(damaged STREQUAL text)
    message(FATAL_ERROR "the damage '${what}' did not change ${file}: the test is stale")
  endif()
  file(WRITE ${WORK}/${file} "${damaged}")
  check(FALSE "${what}")
endfunction()

fresh_copy()
check(TRUE "the intact copy")
damage(latest.json "latest.json cut short" "\"scaling\".*" "")
damage(latest.json "a ratio that is not value / the peer's value"
  "\"vs_asio_pool\": [0-9.e+-]+" "\"vs_asio_pool\": 12345")
damage(latest.json "a recorded failure" "\"failures\": \\[\\]" "\"failures\": [\"boom\"]")
damage(latest.json "a Ray figure that is not Ray's" "\"value\": 980.7121217208985"
  "\"value\": 981")
damage(latest.md "a metric missing from the table" "\\| `single_client_tasks_async` \\|" "| x |")
damage(latest.svg "an element never closed" "</svg>" "")
damage(latest.svg "mismatched tags" "</text>" "</rect>")
