// A plugin library with its packs embedded (tritonpack_add_tensorrt_plugins): serves exactly the
// packs it was built with, whatever the environment says. The table comes from the generated
// source of cmake/TritonpackTensorRT.cmake.
#include <span>
#include <string>
#include <vector>

#include "embedded_packs.h"
#include "library.h"

namespace tritonpack::tensorrt {

const CreatorSet& creator_set() {
  static const CreatorSet set = [] {
    std::vector<std::shared_ptr<const PackSource>> sources;
    std::vector<std::string> problems;
    for (const embedded::Pack& p : embedded::packs()) {
      const std::string origin = std::string(p.file_name) + " (embedded in " + embedded::library_name() + ")";
      try {
        const std::span<const uint8_t> bytes(p.begin, static_cast<size_t>(p.end - p.begin));
        sources.push_back(PackSource::from_pack(tritonpack::Pack::from_bytes(bytes, origin), origin));
      } catch (const Error& e) {
        log(nvinfer1::ILogger::Severity::kERROR, "tritonpack TensorRT plugins: cannot serve " + origin + ": " + e.what());
      }
    }
    return CreatorSet::from_sources(sources);
  }();
  return set;
}

}  // namespace tritonpack::tensorrt
