// getCreators and setLoggerFinder over the library form's creator_set().
#include "library.h"

#include <new>

void setLoggerFinder(nvinfer1::ILoggerFinder* finder) noexcept { tritonpack::tensorrt::set_logger_finder(finder); }

nvinfer1::IPluginCreatorInterface* const* getCreators(int32_t& nbCreators) noexcept {
  nbCreators = 0;
  try {
    const auto creators = tritonpack::tensorrt::creator_set().interfaces();
    nbCreators = static_cast<int32_t>(creators.size());
    return creators.empty() ? nullptr : creators.data();
  } catch (...) {
    // creator_set() reports its own problems; only an allocation failure gets here.
    tritonpack::tensorrt::log(nvinfer1::ILogger::Severity::kERROR,
                              "tritonpack TensorRT plugins: the creators could not be made (out of memory)");
    return nullptr;
  }
}
