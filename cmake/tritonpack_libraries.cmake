# The libraries (docs/install.md):
#   tritonpack_runtime          static: opens packs and launches their kernels (driver, pack, expr,
#                               runtime, plugin core, C API, util); what an application or engine
#                               plugin links. No TOML parser, no compile step.
#   tritonpack_runtime_shared   the same objects as a shared library (libtritonpack_runtime.so),
#                               exporting only the C API and the tritonpack namespace.
#   tritonpack_compiler         static: the spec reader (toml++), the compile plan and the
#                               compile step's job/meta files, gen-cpp; what the CLI adds.
#   tritonpack                  both (the library's name before the split, kept so that older
#                               CMake code still links); new code names the library it needs.
# Included from the top-level CMakeLists.txt after the dependencies are found.

include(GNUInstallDirs)

file(GLOB_RECURSE TRITONPACK_RUNTIME_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/src/driver/*.cpp
     ${PROJECT_SOURCE_DIR}/src/pack/*.cpp
     ${PROJECT_SOURCE_DIR}/src/expr/*.cpp
     ${PROJECT_SOURCE_DIR}/src/runtime/*.cpp
     ${PROJECT_SOURCE_DIR}/src/plugin/*.cpp
     ${PROJECT_SOURCE_DIR}/src/util/*.cpp
     ${PROJECT_SOURCE_DIR}/src/capi/*.cpp)
file(GLOB_RECURSE TRITONPACK_COMPILER_SOURCES CONFIGURE_DEPENDS
     ${PROJECT_SOURCE_DIR}/src/spec/*.cpp
     ${PROJECT_SOURCE_DIR}/src/compiler/*.cpp)

# The runtime is compiled once, position-independent, and archived into the static library and
# linked into the shared one. nlohmann_json (header-only) is needed to compile these objects only,
# so neither library carries it in its link interface.
add_library(tritonpack_runtime_objects OBJECT ${TRITONPACK_RUNTIME_SOURCES})
set_target_properties(tritonpack_runtime_objects PROPERTIES POSITION_INDEPENDENT_CODE ON)
target_include_directories(tritonpack_runtime_objects PRIVATE ${PROJECT_SOURCE_DIR}/include ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(tritonpack_runtime_objects PRIVATE nlohmann_json::nlohmann_json CUDA::toolkit Threads::Threads
                                                         tritonpack_sanitizer)
target_compile_options(tritonpack_runtime_objects PRIVATE -Wall -Wextra -Wpedantic -Werror=return-type)
target_compile_definitions(tritonpack_runtime_objects PRIVATE
  TRITONPACK_VERSION="${PROJECT_VERSION}"
  TRITONPACK_VERSION_MAJOR=${PROJECT_VERSION_MAJOR}
  TRITONPACK_VERSION_MINOR=${PROJECT_VERSION_MINOR}
  TRITONPACK_VERSION_PATCH=${PROJECT_VERSION_PATCH})

# What every user of the runtime gets: the public headers, which need C++20 and cuda.h (the CUDA
# toolkit's headers; libcuda itself is opened at run time by src/driver, never linked), and Threads.
function(tritonpack_runtime_interface target)
  target_include_directories(${target} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_link_libraries(${target} PUBLIC CUDA::toolkit Threads::Threads PRIVATE ${CMAKE_DL_LIBS})
  # A sanitizer build (cmake/tritonpack_sanitizers.cmake) instruments whatever links the runtime
  # here; an installed runtime carries no sanitizer.
  if(TRITONPACK_SANITIZER)
    target_link_libraries(${target} PUBLIC $<BUILD_INTERFACE:tritonpack_sanitizer>)
  endif()
endfunction()

add_library(tritonpack_runtime STATIC $<TARGET_OBJECTS:tritonpack_runtime_objects>)
add_library(tritonpack::runtime ALIAS tritonpack_runtime)
tritonpack_runtime_interface(tritonpack_runtime)
set_target_properties(tritonpack_runtime PROPERTIES EXPORT_NAME runtime)

# Symbol visibility: tritonpack_runtime.map exports the C API (tp_*) and the tritonpack namespace
# (with its typeinfo and vtables, so exceptions and classes cross the boundary); everything else,
# such as the std:: and nlohmann:: template instances compiled into the library, stays local.
add_library(tritonpack_runtime_shared SHARED $<TARGET_OBJECTS:tritonpack_runtime_objects>)
add_library(tritonpack::runtime_shared ALIAS tritonpack_runtime_shared)
tritonpack_runtime_interface(tritonpack_runtime_shared)
set(TRITONPACK_RUNTIME_MAP ${CMAKE_CURRENT_LIST_DIR}/tritonpack_runtime.map)
target_link_options(tritonpack_runtime_shared PRIVATE
  -Wl,--version-script=${TRITONPACK_RUNTIME_MAP}
  # Every symbol resolved at link time (libdl, libstdc++), except in the fuzz build, whose objects
  # call into the sanitizer runtime that only the fuzz executables link.
  $<$<NOT:$<BOOL:${TRITONPACK_FUZZ}>>:-Wl,--no-undefined>)
# While tritonpack is 0.x, a minor release may change the ABI: the soname carries major.minor.
set_target_properties(tritonpack_runtime_shared PROPERTIES
  OUTPUT_NAME tritonpack_runtime
  EXPORT_NAME runtime_shared
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR}
  LINK_DEPENDS ${TRITONPACK_RUNTIME_MAP})

# toml++ and nlohmann_json are compiled into the compiler's objects (header-only), so they stay
# out of its installed link interface ($<BUILD_INTERFACE:...>).
add_library(tritonpack_compiler STATIC ${TRITONPACK_COMPILER_SOURCES})
add_library(tritonpack::compiler ALIAS tritonpack_compiler)
target_include_directories(tritonpack_compiler PRIVATE ${PROJECT_SOURCE_DIR}/src)
target_link_libraries(tritonpack_compiler
  PUBLIC tritonpack_runtime
  PRIVATE $<BUILD_INTERFACE:nlohmann_json::nlohmann_json> $<BUILD_INTERFACE:tritonpack_tomlplusplus>)
target_compile_options(tritonpack_compiler PRIVATE -Wall -Wextra -Wpedantic -Werror=return-type)
set_target_properties(tritonpack_compiler PROPERTIES POSITION_INDEPENDENT_CODE ON EXPORT_NAME compiler)

add_library(tritonpack INTERFACE)
add_library(tritonpack::tritonpack ALIAS tritonpack)
target_link_libraries(tritonpack INTERFACE tritonpack_runtime tritonpack_compiler)
