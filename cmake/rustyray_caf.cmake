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
# CAF::<module> for libcaf_<module>, which needs `below`. The openssl module
# is for TLS between a cluster's nodes (config.tls): libcaf-dev depends on
# libcaf-openssl0.17, so it is there wherever CAF is.
function(rustyray_import_caf module below)
  if(TARGET CAF::${module})
    return()
  endif()
  find_library(CAF_${module}_LIBRARY caf_${module})
  if(NOT CAF_${module}_LIBRARY)
    message(FATAL_ERROR "CAF 0.17's ${module} module not found: install it with 'apt-get install -y libcaf-dev'")
  endif()
  add_library(CAF::${module} UNKNOWN IMPORTED)
  set_target_properties(CAF::${module} PROPERTIES IMPORTED_LOCATION "${CAF_${module}_LIBRARY}"
    INTERFACE_LINK_LIBRARIES ${below})
endfunction()
rustyray_import_caf(io CAF::core)
rustyray_import_caf(openssl CAF::io)
