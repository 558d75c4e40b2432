// Dtype names and codes: every dtype's name parses back to it, and a dtype field's value (the
// code, static_cast<double>(DType)) maps back only when it is one.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "tritonpack/types.h"

namespace tritonpack {
namespace {

TEST(DTypes, NamesAndCodesRoundTrip) {
  for (int i = 0; i < kNumDTypes; ++i) {
    const DType t = static_cast<DType>(i);
    SCOPED_TRACE(std::string(dtype_name(t)));
    EXPECT_EQ(parse_dtype(dtype_name(t)), t);
    EXPECT_EQ(dtype_of_code(static_cast<double>(t)), t);
  }
  EXPECT_EQ(dtype_of_code(1.0), DType::kBf16);
  for (double no_code : {-1.0, 0.5, static_cast<double>(kNumDTypes), 1e300, -0.25,
                         std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_EQ(dtype_of_code(no_code), std::nullopt) << no_code;
  }
}

}  // namespace
}  // namespace tritonpack
