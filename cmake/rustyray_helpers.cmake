include(GNUInstallDirs)

# rustyray_add_module(<name> [DEPENDS <module>...] SOURCES ...): one layer of the
# library, a folder with public headers in include/ (installed), headers for the
# layers above it in internal/ (not installed) and its sources and private
# headers in src/. It compiles as an OBJECT library, rustyray_<name>, whose
# include path holds its own folders and those of the modules it DEPENDS on,
# never an upper layer's or any src/ but its own: the build enforces the layers
# (tests/layers checks the includes too). Its objects go into the one rustyray.
function(rustyray_add_module name)
  cmake_parse_arguments(arg "" "" "DEPENDS;SOURCES" ${ARGN})
  set(target rustyray_${name})
  add_library(${target} OBJECT ${arg_SOURCES})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  foreach(dir include internal)
    if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/${dir})
      target_include_directories(${target} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/${dir})
    endif()
  endforeach()
  target_include_directories(${target} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  string(REPLACE ";" "," deps "${arg_DEPENDS}")
  set_property(GLOBAL APPEND PROPERTY rustyray_layers "${name}:${deps}")
  list(TRANSFORM arg_DEPENDS PREPEND rustyray_)
  target_link_libraries(${target} PUBLIC ${arg_DEPENDS} PRIVATE rustyray_warnings)
  if(NOT arg_DEPENDS)
    target_link_libraries(${target} PUBLIC CAF::io CAF::core nlohmann_json::nlohmann_json)
  endif()
  # Its thread_locals (the current contexts, actor, task, timeline lane, refs
  # being noted) are read on every call: in a shared library each read is a
  # call to __tls_get_addr, with initial-exec one instruction. Their few
  # hundred bytes fit the static TLS block glibc keeps for dlopen()ed
  # libraries too.
  target_compile_options(${target} PRIVATE -ftls-model=initial-exec)
  if(RUSTYRAY_UNITY_BUILD)
    set_target_properties(${target} PROPERTIES UNITY_BUILD ON)
  endif()
  target_sources(rustyray PRIVATE $<TARGET_OBJECTS:${target}>)
  if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/include)
    target_include_directories(rustyray PUBLIC
      $<BUILD_INTERFACE:${CMAKE_CURRENT_SOURCE_DIR}/include>)
    install(DIRECTORY include/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  endif()
  set_property(GLOBAL APPEND PROPERTY rustyray_modules ${name})
endfunction()

# The include path of white-box tests, fuzz targets and benchmarks: every
# module's internal/ and src/ folders.
function(rustyray_include_internals target)
  get_property(modules GLOBAL PROPERTY rustyray_modules)
  foreach(module IN LISTS modules)
    get_target_property(dirs rustyray_${module} INCLUDE_DIRECTORIES)
    target_include_directories(${target} PRIVATE ${dirs})
  endforeach()
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
  # Tests may reach into internal and private headers to check internal state.
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/tests/support)
  rustyray_include_internals(${target})
  target_compile_definitions(${target} PRIVATE BOOST_TEST_DYN_LINK)
  rustyray_use_precompiled_headers(${target})
  add_test(NAME ${module}.${unit} COMMAND ${target})
  set_tests_properties(${module}.${unit} PROPERTIES TIMEOUT 300 LABELS "${module};${arg_LABELS}")
endfunction()

# rustyray_add_example(<name> EXPECT <regex>...): a narrated single-file example,
# run as a CTest smoke test that must print every expected line, and listed for
# rustyray_install_examples.
function(rustyray_add_example name)
  cmake_parse_arguments(arg "" "" "EXPECT;LAUNCHER" ${ARGN})
  add_executable(${name} ${name}.cpp)
  target_link_libraries(${name} PRIVATE rustyray::rustyray rustyray_warnings)
  rustyray_use_precompiled_headers(${name})
  set_property(GLOBAL APPEND PROPERTY rustyray_examples ${name})
  # LAUNCHER: a command the program runs under, e.g. `rustyray up --workers 2 --`.
  add_test(NAME example.${name} COMMAND ${CMAKE_COMMAND} -DPROGRAM=$<TARGET_FILE:${name}>
    "-DLAUNCHER=${arg_LAUNCHER}" "-DEXPECT=${arg_EXPECT}"
    -P ${PROJECT_SOURCE_DIR}/cmake/run_example.cmake)
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
