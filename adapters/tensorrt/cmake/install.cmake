# `cmake --install` of the TensorRT adapter (docs/install.md), included by adapters/tensorrt/CMakeLists.txt
# after cmake/tritonpack_install.cmake has set up the package:
#
#   include/tritonpack/tensorrt/plugin.h
#   lib/libtritonpack_tensorrt_adapter.a             tritonpack::tensorrt_adapter (static, position independent)
#   lib/libtritonpack_tensorrt.so                    tritonpack::tensorrt_generic: the generic plugin library
#   lib/cmake/tritonpack/tritonpackTensorRTTargets*.cmake, tritonpackTensorRTComponent.cmake
#   share/tritonpack/tensorrt/cmake/TritonpackTensorRT.cmake   tritonpack_add_tensorrt_plugins
#   share/tritonpack/tensorrt/src/                   what that function compiles into each library
#
# The TensorRT headers this build used are not recorded: the component takes its user's
# (TensorRT_INCLUDE_DIR / TensorRT_ROOT) and checks their major version against this build's.

install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/include/tritonpack/tensorrt/plugin.h
        DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/tritonpack/tensorrt)

# A separate export set, loaded only when a user asks for the component: a consumer without
# TensorRT gets no target that would need its headers.
install(TARGETS tritonpack_tensorrt_adapter tritonpack_tensorrt
        EXPORT tritonpackTensorRTTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(EXPORT tritonpackTensorRTTargets
        NAMESPACE tritonpack::
        DESTINATION ${TRITONPACK_INSTALL_CMAKEDIR})

set(TRITONPACK_TENSORRT_INSTALL_DIR ${CMAKE_INSTALL_DATADIR}/tritonpack/tensorrt)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/cmake/TritonpackTensorRT.cmake
        DESTINATION ${TRITONPACK_TENSORRT_INSTALL_DIR}/cmake)
install(FILES ${CMAKE_CURRENT_SOURCE_DIR}/src/library.cpp ${CMAKE_CURRENT_SOURCE_DIR}/src/library.h
              ${CMAKE_CURRENT_SOURCE_DIR}/src/library_embedded.cpp ${CMAKE_CURRENT_SOURCE_DIR}/src/embedded_packs.h
              ${CMAKE_CURRENT_SOURCE_DIR}/src/exports.map
        DESTINATION ${TRITONPACK_TENSORRT_INSTALL_DIR}/src)

configure_file(${CMAKE_CURRENT_SOURCE_DIR}/cmake/tritonpackTensorRTComponent.cmake.in
               ${PROJECT_BINARY_DIR}/tritonpackTensorRTComponent.cmake @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/tritonpackTensorRTComponent.cmake DESTINATION ${TRITONPACK_INSTALL_CMAKEDIR})
