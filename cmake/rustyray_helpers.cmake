include(GNUInstallDirs)

# rustyray_add_module(<name> SOURCES ...): a module is a folder with public
# headers in include/ and sources in src/, compiled into the one rustyray library.
function(rustyray_add_module name)
  cmake_parse_arguments(arg "" "" "SOURCES" ${ARGN})
  target_sources(rustyray PRIVATE ${arg_SOURCES})
  target_include_directories(rustyray
    PUBLIC $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>
    PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
endfunction()

# rustyray_use_precompiled_headers(<target>): an executable linking rustyray
# reuses the precompiled headers (RUSTYRAY_PRECOMPILE_HEADERS).
function(rustyray_use_precompiled_headers target)
  if(TARGET rustyray_pch)
    target_precompile_headers(${target} REUSE_FROM rustyray_pch)
  endif()
endfunction()

# rustyray_add_test(<module> <unit> [LABELS ...]): tests/<module>/<unit>_test.cpp
# as one Boost.Test executable, registered with CTest as <module>.<unit>.
function(rustyray_add_test module unit)
  cmake_parse_arguments(arg "" "" "LABELS" ${ARGN})
  set(target test_${module}_${unit})
  add_executable(${target} ${unit}_test.cpp)
  target_link_libraries(${target} PRIVATE rustyray::rustyray Boost::unit_test_framework
    rustyray_warnings)
  # Tests may reach into private headers (src/) to check internal state.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support
    ${PROJECT_SOURCE_DIR}/lib/src
    ${PROJECT_SOURCE_DIR}/objstore/src
    ${PROJECT_SOURCE_DIR}/tasks/src
    ${PROJECT_SOURCE_DIR}/actors/src)
  target_compile_definitions(${target} PRIVATE BOOST_TEST_DYN_LINK)
  rustyray_use_precompiled_headers(${target})
  add_test(NAME ${module}.${unit} COMMAND ${target})
  set_tests_properties(${module}.${unit} PROPERTIES TIMEOUT 300 LABELS "${module};${arg_LABELS}")
endfunction()

# rustyray_add_example(<name> EXPECT <regex>...): a narrated single-file example,
# run as a CTest smoke test that must print every expected line, and listed for
# rustyray_install_examples.
function(rustyray_add_example name)
  cmake_parse_arguments(arg "" "" "EXPECT" ${ARGN})
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE rustyray::rustyray rustyray_warnings)
  rustyray_use_precompiled_headers(${name})
  set_property(GLOBAL APPEND PROPERTY rustyray_examples ${name})
  add_test(NAME example.${name} COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${name}>
    "-DEXPECT=${arg_EXPECT}" -P ${PROJECT_SOURCE_DIR}/cmake/run_example.cmake)
  set_tests_properties(example.${name} PROPERTIES TIMEOUT 120 LABELS example)
endfunction()

# rustyray_install_examples(): the examples' sources, with a CMakeLists that
# builds them against an installed RustyRay (find_package), go to
# share/rustyray/examples.
function(rustyray_install_examples)
  get_property(names GLOBAL PROPERTY rustyray_examples)
  set(dir ${CMAKE_INSTALL_DATADIR}/rustyray/examples)
  configure_file(installed/CMakeLists.txt.in installed/CMakeLists.txt @ONLY)
  install(FILES ${CMAKE_CURRENT_BINARY_DIR}/installed/CMakeLists.txt DESTINATION ${dir})
  foreach(name IN LISTS names)
    install(FILES ${name}.cpp DESTINATION ${dir})
  endforeach()
endfunction()
