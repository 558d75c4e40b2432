// A symbolic::Builder over plain integers that implements TensorRT's nine dimension operations
// independently of src/expr/expr.cpp, with 128-bit intermediates: an int64 overflow or a division
// by zero throws Error(kEvaluation). Property tests and the fuzz targets compare it with the
// concrete evaluator where that succeeds.
//
// Every handle is a number. By default the builder says so through constant_value(), like
// TensorRT's builder for static dims, so next_power_of_2, log2 and is_power_of_2 always fold;
// IntBuilder(Constants::kHidden) says nothing, like a builder for dynamic dims, so building them on
// anything but a name-free argument is refused.
#pragma once

#include <cstdint>
#include <optional>

#include "tritonpack/error.h"
#include "tritonpack/symbolic.h"

namespace tritonpack::testing {

class IntBuilder final : public symbolic::Builder<int64_t> {
 public:
  enum class Constants : bool { kKnown, kHidden };
  explicit IntBuilder(Constants constants = Constants::kKnown) : constants_(constants) {}

  int64_t constant(int64_t value) override { return value; }
  std::optional<int64_t> constant_value(const int64_t& value) override {
    return constants_ == Constants::kKnown ? std::optional<int64_t>(value) : std::nullopt;
  }
  int64_t operation(symbolic::Op op, int64_t a, int64_t b) override {
    using symbolic::Op;
    __int128 r = 0;
    switch (op) {
      case Op::kSum: r = static_cast<__int128>(a) + b; break;
      case Op::kProd: r = static_cast<__int128>(a) * b; break;
      case Op::kSub: r = static_cast<__int128>(a) - b; break;
      case Op::kMax: r = a > b ? a : b; break;
      case Op::kMin: r = a < b ? a : b; break;
      case Op::kEqual: r = a == b; break;
      case Op::kLess: r = a < b; break;
      case Op::kFloorDiv:
      case Op::kCeilDiv: {
        if (b == 0) throw Error(ErrorCode::kEvaluation, "division by zero");
        const __int128 q = static_cast<__int128>(a) / b, m = static_cast<__int128>(a) % b;
        r = q;
        if (m != 0 && op == Op::kFloorDiv && ((m < 0) != (b < 0))) r = q - 1;
        if (m != 0 && op == Op::kCeilDiv && ((m < 0) == (b < 0))) r = q + 1;
        break;
      }
    }
    if (r > INT64_MAX || r < INT64_MIN) throw Error(ErrorCode::kEvaluation, "overflow");
    return static_cast<int64_t>(r);
  }

 private:
  Constants constants_;
};

}  // namespace tritonpack::testing
