# install() and a package config, so a CAF application can
#   find_package(rustyray CONFIG REQUIRED)
#   target_link_libraries(app PRIVATE rustyray::rustyray)
# and get CAF and nlohmann_json along with it.
include(CMakePackageConfigHelpers)
set(rustyray_cmake_dir ${CMAKE_INSTALL_LIBDIR}/cmake/rustyray)

target_include_directories(rustyray PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
install(TARGETS rustyray EXPORT rustyray_targets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT rustyray_targets NAMESPACE rustyray:: FILE rustyrayTargets.cmake
  DESTINATION ${rustyray_cmake_dir})
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rustyrayConfig.cmake.in
  ${PROJECT_BINARY_DIR}/rustyrayConfig.cmake INSTALL_DESTINATION ${rustyray_cmake_dir})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/rustyrayConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/rustyrayConfig.cmake
  ${PROJECT_BINARY_DIR}/rustyrayConfigVersion.cmake
  ${PROJECT_SOURCE_DIR}/cmake/rustyray_caf.cmake
  DESTINATION ${rustyray_cmake_dir})
