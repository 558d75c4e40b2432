// Whether an error is the documented refusal of the symbolic evaluators (include/tritonpack/
// symbolic.h): next_power_of_2, log2 or is_power_of_2 of a value the builder cannot show to be
// constant. Property tests and fuzz targets accept it, and only it, where a builder hides constants.
#pragma once

#include <string>

#include "tritonpack/error.h"

namespace tritonpack::testing {

inline bool is_symbolic_refusal(const Error& e) {
  const std::string message = e.what();
  return e.code() == ErrorCode::kEvaluation &&
         message.find("' cannot be expressed with an engine's shape operations; ") != std::string::npos &&
         (message.rfind("'next_power_of_2(", 0) == 0 || message.rfind("'log2(", 0) == 0 ||
          message.rfind("'is_power_of_2(", 0) == 0);
}

}  // namespace tritonpack::testing
