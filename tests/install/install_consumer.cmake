file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${ARGN}\n${out}\n${err}")
  endif()
  set(last_output "${out}" PARENT_SCOPE)
endfunction()
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix})
set(flags "")
if(SANITIZE)
  # A sanitized library needs a sanitized consumer to link.
  set(flags -DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE} -DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE})
endif()
# build_and_run(<build dir> <source dir> <program> <expected output regex> [cmake args...])
function(build_and_run build source program expected)
  run(${CMAKE_COMMAND} -S ${source} -B ${build} -DCMAKE_PREFIX_PATH=${prefix}
    -DCMAKE_BUILD_TYPE=Release ${flags} ${ARGN})
  run(${CMAKE_COMMAND} --build ${build})
  run(${build}/${program})
  if(NOT last_output MATCHES "${expected}")
    message(FATAL_ERROR "unexpected output of ${program}: ${last_output}")
  endif()
  message("${last_output}")
endfunction()

build_and_run(${WORK_DIR}/build ${SOURCE_DIR} consumer "consumer: 42")
# An application that declares CAF::core itself.
build_and_run(${WORK_DIR}/build_own_core ${SOURCE_DIR} consumer "consumer: 42" -DOWN_CAF_CORE=ON)
# The installed examples, as the README's recipe builds them (one of them: the
# recipe is the same for each, and each build takes a while).
if(EXAMPLES)
  build_and_run(${WORK_DIR}/examples ${prefix}/share/rustyray/examples ray_api_demo
    "demo finished" -DRUSTYRAY_EXAMPLES=ray_api_demo)
endif()
