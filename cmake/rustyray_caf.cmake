# Imported targets for CAF 0.17 (Debian's libcaf-dev has no CAFConfig.cmake and
# no pkg-config file). Installed next to rustyrayConfig.cmake so consumers get
# the same targets through find_package(rustyray).
if(NOT TARGET CAF::core)
  find_package(Threads REQUIRED)
  find_path(CAF_INCLUDE_DIR caf/all.hpp)
  find_library(CAF_CORE_LIBRARY caf_core)
  find_library(CAF_IO_LIBRARY caf_io)
  if(NOT CAF_INCLUDE_DIR OR NOT CAF_CORE_LIBRARY OR NOT CAF_IO_LIBRARY)
    message(FATAL_ERROR "CAF 0.17 not found: install it with 'apt-get install -y libcaf-dev'")
  endif()
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(CAF::io UNKNOWN IMPORTED)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
