# `cmake --install`: the public headers, the runtime (static and shared), the compiler library,
# the CLI with its Python packages, and a CMake package, so that a consumer writes (docs/install.md)
#   find_package(tritonpack 0.1 REQUIRED)
#   target_link_libraries(app PRIVATE tritonpack::runtime)   # or tritonpack::runtime_shared
# Included from the top-level CMakeLists.txt after the libraries and the CLI are defined.

include(CMakePackageConfigHelpers)
include(GNUInstallDirs)

set(TRITONPACK_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/tritonpack)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/tritonpack
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
        FILES_MATCHING PATTERN "*.h")

install(TARGETS tritonpack_runtime tritonpack_runtime_shared tritonpack_compiler
        EXPORT tritonpackTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# The CLI and the Python packages (tritonpack, and those its compile, init and import-plugingen
# commands run), in component "cli": a wheel (pyproject.toml) installs this component only, with
# TRITONPACK_INSTALL_CLI_DIR and TRITONPACK_INSTALL_PYTHON_DIR pointing into site-packages. Each
# finds the other by a relative path (cmake/tritonpack_layout.cmake), so no source path is needed.
if(TARGET tritonpack_cli)
  install(TARGETS tritonpack_cli RUNTIME DESTINATION ${TRITONPACK_INSTALL_CLI_DIR} COMPONENT cli)
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/python/
          DESTINATION ${TRITONPACK_INSTALL_PYTHON_DIR} COMPONENT cli
          FILES_MATCHING PATTERN "*.py" PATTERN "__pycache__" EXCLUDE)
  install(FILES ${PROJECT_BINARY_DIR}/python-install/tritonpack/_install_info.py
          DESTINATION ${TRITONPACK_INSTALL_PYTHON_DIR}/tritonpack COMPONENT cli)
endif()

install(EXPORT tritonpackTargets
        NAMESPACE tritonpack::
        DESTINATION ${TRITONPACK_INSTALL_CMAKEDIR})

configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/tritonpackConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/tritonpackConfig.cmake
                              INSTALL_DESTINATION ${TRITONPACK_INSTALL_CMAKEDIR})
# 0.x: a minor release may break the API and ABI (the shared library's soname is major.minor), so
# only the same major.minor is compatible; from 1.0 on, SameMajorVersion.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/tritonpackConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/tritonpackConfig.cmake ${PROJECT_BINARY_DIR}/tritonpackConfigVersion.cmake
        DESTINATION ${TRITONPACK_INSTALL_CMAKEDIR})
