// Where the GPU tests find the shipped packs and the sources: compiled-in defaults, overridable
// when the build runs from another folder (the GPU machine).
#pragma once

#include <cstdlib>
#include <string>

namespace tritonpack {

inline std::string test_packs_dir() {
  const char* v = std::getenv("TRITONPACK_TEST_PACKS");
  return v && *v ? v : TRITONPACK_TEST_PACKS;
}

inline std::string source_dir() {
  const char* v = std::getenv("TRITONPACK_SOURCE_DIR");
  return v && *v ? v : TRITONPACK_SOURCE_DIR;
}

}  // namespace tritonpack
