# Where the CLI and its Python packages are installed, and how each finds the other there.
# Included from the top-level CMakeLists.txt before the CLI is defined; the install rules are in
# tritonpack_install.cmake.
#
#   cmake --install (the defaults)       pip install . (pyproject.toml sets these two)
#   <prefix>/bin/tritonpack              <site-packages>/tritonpack/bin/tritonpack
#   <prefix>/share/tritonpack/python/    <site-packages>/ (tritonpack, tritonpack_compile, ...)
#
# The CLI finds the packages from its own path (/proc/self/exe) and TRITONPACK_PYTHON_DIR_FROM_BIN;
# the Python package tritonpack finds the CLI through _install_info.py, written below.

include(GNUInstallDirs)

set(TRITONPACK_INSTALL_CLI_DIR ${CMAKE_INSTALL_BINDIR} CACHE STRING
    "Where cmake --install puts the tritonpack CLI, relative to the install prefix")
set(TRITONPACK_INSTALL_PYTHON_DIR ${CMAKE_INSTALL_DATADIR}/tritonpack/python CACHE STRING
    "Where cmake --install puts the CLI's Python packages, relative to the install prefix")
foreach(dir TRITONPACK_INSTALL_CLI_DIR TRITONPACK_INSTALL_PYTHON_DIR)
  if(IS_ABSOLUTE "${${dir}}")
    # The two find each other by a relative path, which must hold under any --prefix.
    message(FATAL_ERROR "${dir} must be relative to the install prefix, not '${${dir}}'")
  endif()
endforeach()

# The path from installed folder `from` to installed path `to` (both relative to the prefix).
function(tritonpack_install_relative_path out from to)
  cmake_path(ABSOLUTE_PATH from BASE_DIRECTORY /prefix NORMALIZE)
  cmake_path(ABSOLUTE_PATH to BASE_DIRECTORY /prefix NORMALIZE)
  cmake_path(RELATIVE_PATH to BASE_DIRECTORY "${from}")
  if(to STREQUAL "")
    set(to .)
  endif()
  set(${out} "${to}" PARENT_SCOPE)
endfunction()

tritonpack_install_relative_path(TRITONPACK_PYTHON_DIR_FROM_BIN
                                 ${TRITONPACK_INSTALL_CLI_DIR} ${TRITONPACK_INSTALL_PYTHON_DIR})
tritonpack_install_relative_path(TRITONPACK_CLI_FROM_PYTHON_DIR
                                 ${TRITONPACK_INSTALL_PYTHON_DIR} ${TRITONPACK_INSTALL_CLI_DIR}/tritonpack)

# tritonpack/_install_info.py, installed with the Python packages (never in the source tree, where
# tritonpack.__version__ reads VERSION and the CLI is found through $TRITONPACK_CLI).
file(CONFIGURE OUTPUT ${PROJECT_BINARY_DIR}/python-install/tritonpack/_install_info.py CONTENT
"# Written by CMake (cmake/tritonpack_layout.cmake) for an installed tritonpack; the source tree has none.
version = \"${PROJECT_VERSION}\"
# The CLI, relative to the folder that holds the package tritonpack.
cli = \"${TRITONPACK_CLI_FROM_PYTHON_DIR}\"
")

# pip install (scikit-build-core) reads the version from VERSION too; refuse a wheel whose metadata
# would say otherwise.
if(DEFINED SKBUILD_PROJECT_VERSION AND NOT SKBUILD_PROJECT_VERSION VERSION_EQUAL PROJECT_VERSION)
  message(FATAL_ERROR "pyproject.toml's version ${SKBUILD_PROJECT_VERSION} differs from VERSION's ${PROJECT_VERSION}")
endif()
