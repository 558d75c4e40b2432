// The run harness's element codecs (harness::encode / decode): what `tritonpack run` writes into
// input buffers and reads back from outputs. The FP8 formats are checked against values worked
// out by hand from their definitions (e4m3fn: bias 7, no infinities, S.1111.111 NaN; e5m2: bias
// 15, IEEE infinities and NaNs), every code round trip, and rounding to nearest, ties to even.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "harness/runner.h"

namespace tritonpack::harness {
namespace {

double stored(DType t, double v, uint8_t* byte) { return encode(t, v, byte); }

TEST(ElementCodec, Fp8E4m3KnownValues) {
  uint8_t b = 0;
  EXPECT_EQ(stored(DType::kFp8e4nv, 1.0, &b), 1.0);
  EXPECT_EQ(b, 0x38);
  EXPECT_EQ(stored(DType::kFp8e4nv, 448.0, &b), 448.0);
  EXPECT_EQ(b, 0x7e);
  EXPECT_EQ(stored(DType::kFp8e4nv, -0.5, &b), -0.5);
  EXPECT_EQ(b, 0xb0);
  EXPECT_EQ(stored(DType::kFp8e4nv, std::ldexp(1.0, -9), &b), std::ldexp(1.0, -9));  // smallest subnormal
  EXPECT_EQ(b, 0x01);
  EXPECT_EQ(stored(DType::kFp8e4nv, std::ldexp(1.0, -6), &b), std::ldexp(1.0, -6));  // smallest normal
  EXPECT_EQ(b, 0x08);
  // 1 + 1/16 lies halfway between 1 (mantissa 000) and 1.125 (001): the even one.
  EXPECT_EQ(stored(DType::kFp8e4nv, 1.0625, &b), 1.0);
  // 1.1875 lies halfway between 1.125 (001) and 1.25 (010): the even one.
  EXPECT_EQ(stored(DType::kFp8e4nv, 1.1875, &b), 1.25);
  EXPECT_EQ(stored(DType::kFp8e4nv, 1.2, &b), 1.25);
  // Halfway past the largest (464) keeps the largest (even mantissa); beyond it there is no
  // infinity: NaN.
  EXPECT_EQ(stored(DType::kFp8e4nv, 464.0, &b), 448.0);
  EXPECT_TRUE(std::isnan(stored(DType::kFp8e4nv, 465.0, &b)));
  EXPECT_TRUE(std::isnan(stored(DType::kFp8e4nv, -std::numeric_limits<double>::infinity(), &b)));
  EXPECT_EQ(b, 0xff);
  const uint8_t poison = 0xff;
  EXPECT_TRUE(std::isnan(decode(DType::kFp8e4nv, &poison)));
}

TEST(ElementCodec, Fp8E5m2KnownValues) {
  uint8_t b = 0;
  EXPECT_EQ(stored(DType::kFp8e5, 1.0, &b), 1.0);
  EXPECT_EQ(b, 0x3c);
  EXPECT_EQ(stored(DType::kFp8e5, 57344.0, &b), 57344.0);
  EXPECT_EQ(b, 0x7b);
  EXPECT_EQ(stored(DType::kFp8e5, std::ldexp(1.0, -16), &b), std::ldexp(1.0, -16));  // smallest subnormal
  EXPECT_EQ(b, 0x01);
  EXPECT_EQ(stored(DType::kFp8e5, 1.125, &b), 1.0);  // halfway between 1 (00) and 1.25 (01)
  EXPECT_EQ(stored(DType::kFp8e5, 1.375, &b), 1.5);  // halfway between 1.25 (01) and 1.5 (10)
  // Halfway past the largest (61440) rounds to the even neighbour, infinity.
  EXPECT_EQ(stored(DType::kFp8e5, 61440.0, &b), std::numeric_limits<double>::infinity());
  EXPECT_EQ(b, 0x7c);
  EXPECT_EQ(stored(DType::kFp8e5, 61439.0, &b), 57344.0);
  EXPECT_EQ(stored(DType::kFp8e5, -1e9, &b), -std::numeric_limits<double>::infinity());
  EXPECT_EQ(b, 0xfc);
  const uint8_t poison = 0xff;
  EXPECT_TRUE(std::isnan(decode(DType::kFp8e5, &poison)));
}

TEST(ElementCodec, EveryFp8CodeRoundTrips) {
  for (DType t : {DType::kFp8e4nv, DType::kFp8e5}) {
    double previous = -1;
    for (int code = 0; code < 256; ++code) {
      const auto bits = static_cast<uint8_t>(code);
      const double v = decode(t, &bits);
      if (std::isnan(v)) continue;
      uint8_t back = 0;
      EXPECT_EQ(encode(t, v, &back), v) << dtype_name(t) << " code " << code;
      // +0 and -0 are two codes of one value.
      if (v != 0) EXPECT_EQ(back, bits) << dtype_name(t) << " code " << code;
      if (code < 128 && !std::isinf(v)) {
        EXPECT_GT(v, previous) << dtype_name(t) << ": codes 0..127 increase";
        previous = v;
      }
    }
  }
}

TEST(ElementCodec, Fp8RoundsToTheNearestCode) {
  for (DType t : {DType::kFp8e4nv, DType::kFp8e5}) {
    for (int code = 1; code < 0x7b; ++code) {
      const auto lo_bits = static_cast<uint8_t>(code), hi_bits = static_cast<uint8_t>(code + 1);
      const double lo = decode(t, &lo_bits), hi = decode(t, &hi_bits);
      uint8_t b = 0;
      EXPECT_EQ(encode(t, lo + (hi - lo) * 0.25, &b), lo) << dtype_name(t) << " code " << code;
      EXPECT_EQ(encode(t, lo + (hi - lo) * 0.75, &b), hi) << dtype_name(t) << " code " << code;
    }
  }
}

}  // namespace
}  // namespace tritonpack::harness
