# Imported targets for CAF 0.17 (Debian's libcaf-dev has no CAFConfig.cmake and
# no pkg-config file). Installed next to rustyrayConfig.cmake so consumers get
# the same targets through find_package(rustyray). An application may have
# declared either target itself: each is declared only where it is missing.
find_package(Threads REQUIRED)
if(NOT TARGET CAF::core)
  find_path(CAF_INCLUDE_DIR caf/all.hpp)
  find_library(CAF_CORE_LIBRARY caf_core)
  if(NOT CAF_INCLUDE_DIR OR NOT CAF_CORE_LIBRARY)
    message(FATAL_ERROR "CAF 0.17 not found: install it with 'apt-get install -y libcaf-dev'")
  endif()
  add_library(CAF::core UNKNOWN IMPORTED)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION "${CAF_CORE_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${CAF_INCLUDE_DIR}"
    INTERFACE_LINK_LIBRARIES Threads::Threads)
endif()
if(NOT TARGET CAF::io)
  find_library(CAF_IO_LIBRARY caf_io)
  if(NOT CAF_IO_LIBRARY)
    message(FATAL_ERROR "CAF 0.17's io module not found: install it with 'apt-get install -y libcaf-dev'")
  endif()
  add_library(CAF::io UNKNOWN IMPORTED)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION "${CAF_IO_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::core)
endif()
# TLS between a cluster's nodes (config.tls): libcaf-dev depends on
# libcaf-openssl0.17, so the library is there wherever CAF is.
if(NOT TARGET CAF::openssl)
  find_library(CAF_OPENSSL_LIBRARY caf_openssl)
  if(NOT CAF_OPENSSL_LIBRARY)
    message(FATAL_ERROR "CAF 0.17's openssl module not found: install it with 'apt-get install -y libcaf-dev'")
  endif()
  add_library(CAF::openssl UNKNOWN IMPORTED)
  set_target_properties(CAF::openssl PROPERTIES IMPORTED_LOCATION "${CAF_OPENSSL_LIBRARY}"
    INTERFACE_LINK_LIBRARIES CAF::io)
endif()
