// The packs a tritonpack_add_tensorrt_plugins library embeds: defined by the source that CMake
// function generates (their bytes are assembled in with .incbin, so no pack is ever pasted as text).
#pragma once

#include <cstdint>
#include <span>

namespace tritonpack::tensorrt::embedded {

struct Pack {
  const char* file_name;
  const uint8_t* begin;
  const uint8_t* end;
};

std::span<const Pack> packs();
const char* library_name();

}  // namespace tritonpack::tensorrt::embedded
