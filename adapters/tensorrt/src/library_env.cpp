// The generic plugin library (libtritonpack_tensorrt.so): serves the packs named by the
// environment variable TRITONPACK_TENSORRT_PACKS (colon-separated paths), read once, when TensorRT
// first asks for the creators.
#include <cstdlib>
#include <string>

#include "library.h"

namespace tritonpack::tensorrt {

const CreatorSet& creator_set() {
  static const CreatorSet set = [] {
    const char* packs = std::getenv("TRITONPACK_TENSORRT_PACKS");
    if (packs == nullptr || *packs == '\0') {
      log(nvinfer1::ILogger::Severity::kERROR,
          "tritonpack TensorRT plugins: TRITONPACK_TENSORRT_PACKS is not set, so this library serves no plugin; "
          "set it to the packs to serve (colon-separated paths) before loading the library");
      return CreatorSet{};
    }
    const std::vector<std::string> paths = split_pack_list(packs);
    return CreatorSet::from_paths(paths);
  }();
  return set;
}

}  // namespace tritonpack::tensorrt
