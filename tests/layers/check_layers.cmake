# Checks that every module includes only its own headers, and the include/ and
# internal/ headers of the modules below it: never another module's src/, never
# a module above it. Prints the module graph it found.
#
#   cmake -DROOT=<source dir> "-DLAYERS=lib:;objstore:lib;tasks:objstore;..." -P check_layers.cmake
#
# LAYERS lists each module with the modules it depends on directly (the
# DEPENDS of rustyray_add_module); a module may include what those depend on
# too.
cmake_minimum_required(VERSION 3.16)

# A relative ROOT (`-DROOT=.`) is taken from the current directory.
get_filename_component(ROOT "${ROOT}" ABSOLUTE)

set(modules "")
foreach(entry IN LISTS LAYERS)
  string(REPLACE ":" ";" parts "${entry}")
  list(GET parts 0 module)
  list(LENGTH parts n)
  set(direct_${module} "")
  if(n GREATER 1)
    list(GET parts 1 deps)
    string(REPLACE "," ";" direct_${module} "${deps}")
  endif()
  list(APPEND modules ${module})
endforeach()

# Every module's allowed modules: itself and what it depends on, transitively.
foreach(module IN LISTS modules)
  set(allowed ${module})
  set(todo ${direct_${module}})
  while(todo)
    list(POP_FRONT todo next)
    if(NOT next IN_LIST allowed)
      list(APPEND allowed ${next})
      list(APPEND todo ${direct_${next}})
    endif()
  endwhile()
  set(allowed_${module} ${allowed})
endforeach()

# Where an include "x" or <x> is found: in the including file's folder, else in
# any module's include/, internal/ or src/ (a lax search, to see what a file
# could reach, not only what its target's include path allows).
function(resolve file header out)
  get_filename_component(dir ${file} DIRECTORY)
  if(EXISTS ${dir}/${header})
    get_filename_component(path ${dir}/${header} ABSOLUTE)
    set(${out} ${path} PARENT_SCOPE)
    return()
  endif()
  foreach(module IN LISTS modules)
    foreach(kind include internal src)
      if(EXISTS ${ROOT}/${module}/${kind}/${header})
        set(${out} ${ROOT}/${module}/${kind}/${header} PARENT_SCOPE)
        return()
      endif()
    endforeach()
  endforeach()
  set(${out} "" PARENT_SCOPE)
endfunction()

set(violations "")
foreach(module IN LISTS modules)
  set(edges_${module} "")
  file(GLOB_RECURSE files ${ROOT}/${module}/*.hpp ${ROOT}/${module}/*.cpp)
  foreach(file IN LISTS files)
    file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*[\"<]")
    foreach(line IN LISTS lines)
      string(REGEX REPLACE "^[ \t]*#[ \t]*include[ \t]*[\"<]([^\">]+)[\">].*" "\\1" header "${line}")
      resolve(${file} ${header} path)
      if(NOT path)
        continue() # a system or third-party header
      endif()
      file(RELATIVE_PATH rel ${ROOT} ${path})
      string(REGEX MATCH "^([^/]+)/([^/]+)/" match ${rel})
      set(owner ${CMAKE_MATCH_1})
      set(kind ${CMAKE_MATCH_2})
      if(NOT owner IN_LIST modules OR owner STREQUAL module)
        continue()
      endif()
      file(RELATIVE_PATH where ${ROOT} ${file})
      if(kind STREQUAL "src")
        list(APPEND violations "${where}: includes ${rel}, a private header of ${owner}")
      elseif(NOT owner IN_LIST allowed_${module})
        list(APPEND violations "${where}: includes ${rel}, but ${module} is below ${owner}")
      endif()
      if(NOT owner IN_LIST edges_${module})
        list(APPEND edges_${module} ${owner})
      endif()
    endforeach()
  endforeach()
endforeach()

message("module graph (includes found; links are the same DEPENDS):")
foreach(module IN LISTS modules)
  list(SORT edges_${module})
  string(REPLACE ";" ", " edges "${edges_${module}}")
  string(REPLACE ";" ", " direct "${direct_${module}}")
  message("  ${module} -> ${edges}    (links: ${direct})")
endforeach()
if(violations)
  string(REPLACE ";" "\n  " text "${violations}")
  message(FATAL_ERROR "layering violations:\n  ${text}")
endif()
message("no layering violation")
