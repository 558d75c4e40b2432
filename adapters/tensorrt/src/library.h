// The two entry points TensorRT looks for in a plugin library (IPluginRegistry::loadLibrary,
// trtexec --dynamicPlugins), with the signatures of NVIDIA's plugin libraries. Each library form
// (library_env.cpp, library_embedded.cpp) defines creator_set(); the rest is shared.
#pragma once

#include <NvInferRuntime.h>

#include <cstdint>

#include "tritonpack/tensorrt/plugin.h"

namespace tritonpack::tensorrt {

// The library's creators, made on first use (after setLoggerFinder, so problems reach the logger).
const CreatorSet& creator_set();

}  // namespace tritonpack::tensorrt

#define TRITONPACK_TENSORRT_EXPORT extern "C" __attribute__((visibility("default")))

TRITONPACK_TENSORRT_EXPORT void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept;
TRITONPACK_TENSORRT_EXPORT nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) noexcept;
